-- Report features (rep_*) of each (seller, as_of): reports naming the seller or about any of
-- its listings before as_of, by reporter type and reason over several windows.
{{ report_features('seller') }}
