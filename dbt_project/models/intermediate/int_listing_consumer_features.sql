-- Consumer-signal features (cons_*) of each (listing, as_of): orders, buyers, refunds, ratings,
-- review text cues, review bursts and reviewer overlap, from events before as_of.
{{ consumer_features('listing') }}
