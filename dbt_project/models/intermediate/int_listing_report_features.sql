-- Report features (rep_*) of each (listing, as_of): reports about the listing before as_of, by
-- reporter type and reason over several windows; rights-holder claims apart from consumers'.
{{ report_features('listing') }}
