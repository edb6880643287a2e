-- Point in time, checked on the data: a training row's event counts equal the events of its
-- listing (or seller) strictly before the label was decided, recomputed here from staging
-- independently of the feature macros. Any row returned is a leak (or a lost event).
with listing_rows as (
    select
        t.listing_id,
        t.cons_orders_all,
        t.rep_reports_all,
        (select count(*) from {{ ref('stg_orders') }} as o
            where o.listing_id = t.listing_id and o.paid_at < t.label_decided_at) as orders_before,
        (select count(*) from {{ ref('stg_reports') }} as r
            where r.listing_id = t.listing_id and r.created_at < t.label_decided_at) as reports_before
    from {{ ref('training_set') }} as t
),

seller_rows as (
    select
        t.seller_id,
        t.sell_logins_all,
        (select count(*) from {{ ref('stg_seller_logins') }} as g
            where g.seller_id = t.seller_id and g.logged_in_at < t.label_decided_at) as logins_before
    from {{ ref('seller_training_set') }} as t
)

select 'listing ' || listing_id as row_key, 'cons_orders_all' as feature
from listing_rows where cons_orders_all <> orders_before
union all
select 'listing ' || listing_id, 'rep_reports_all'
from listing_rows where rep_reports_all <> reports_before
union all
select 'seller ' || seller_id, 'sell_logins_all'
from seller_rows where sell_logins_all <> logins_before
