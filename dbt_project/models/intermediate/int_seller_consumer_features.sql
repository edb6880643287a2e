-- Consumer-signal features (cons_*) of each (seller, as_of), over all the seller's listings:
-- orders, buyers, refunds, ratings, review text cues, bursts and reviewer overlap before as_of.
{{ consumer_features('seller') }}
