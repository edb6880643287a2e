-- For each (seller, as_of) of the seller spine: how many OTHER sellers shared an identifier with
-- it before as_of, per identifier kind and over any kind. Another seller counts when, for some
-- identifier both hold, both had been seen with it before as_of.
--
-- Why not simply all pairs of holders: an innocent hub (a mall's Wi-Fi, a logistics hub's
-- address, an agency's account) is held by thousands of sellers at scale large, and its pairs
-- grow with the square (10^8 rows). So identifiers are split by holder count:
--   small groups  pairs, as before: (seller, other) with the moment they first shared one;
--   big groups    few identifiers: a seller's big identifiers held before as_of form a set B, and
--                 the others reached through B are those whose earliest sighting of any b in B is
--                 before as_of: a running count over each distinct B, looked up by ASOF join.
-- A pair reached both ways is counted once (big_from: when it was reachable through B).
-- The split point (var shared_identifier_big_group) only changes the cost, never a count.
{%- set big_group = var('shared_identifier_big_group') %}

with sellers as (
    -- Integer ids: the pair tables below have tens of millions of rows at scale large, and
    -- hashing integers is much cheaper than hashing strings.
    select seller_id, row_number() over (order by seller_id) as sid
    from (select distinct seller_id from {{ ref('int_seller_identifiers') }})
),

ids as (
    select se.sid, i.identifier_kind as kind, i.first_seen_at,
        dense_rank() over (order by i.identifier_kind, i.identifier) as ident,
        count(*) over (partition by i.identifier_kind, i.identifier) as n_holders
    from {{ ref('int_seller_identifiers') }} as i
    inner join sellers as se on se.seller_id = i.seller_id
),

spine as (
    select s.seller_id, se.sid, s.as_of
    from {{ ref('int_seller_spine') }} as s
    inner join sellers as se on se.seller_id = s.seller_id
),

small_pairs as (
    select own.sid, own.kind, other.sid as other_sid,
        min(greatest(own.first_seen_at, other.first_seen_at)) as shared_from
    from ids as own
    inner join ids as other on other.ident = own.ident and other.sid <> own.sid
    where own.n_holders < {{ big_group }}
    group by all
),

-- Each count is made per scope: one identifier kind, or 'any' kind.
scoped_pairs as (
    select kind as scope, sid, other_sid, shared_from from small_pairs
    union all
    select 'any', sid, other_sid, min(shared_from) from small_pairs group by all
),

big_ids as (
    select sid, kind, first_seen_at, ident as big_id
    from ids
    where n_holders >= {{ big_group }}
),

scoped_big as (
    select kind as scope, sid, big_id, first_seen_at from big_ids
    union all
    select 'any', sid, big_id, first_seen_at from big_ids
),

big_lists as (
    select scope, sid, list(big_id order by big_id) as big_ids,
        list(first_seen_at order by big_id) as first_seen
    from scoped_big
    group by all
),

pairs as (
    -- big_from: when a small-group pair also became reachable through a big identifier both
    -- hold (lists: a seller holds a handful of big identifiers at most).
    select p.scope, p.sid, p.other_sid, p.shared_from,
        list_min(list_transform(
            range(1, coalesce(len(x.big_ids), 0) + 1),
            lambda i: case when list_position(y.big_ids, x.big_ids[i]) > 0
                then greatest(x.first_seen[i], y.first_seen[list_position(y.big_ids, x.big_ids[i])]) end
        )) as big_from
    from scoped_pairs as p
    left join big_lists as x on x.scope = p.scope and x.sid = p.sid
    left join big_lists as y on y.scope = p.scope and y.sid = p.other_sid
),

small_counts as (
    select s.seller_id, s.as_of, p.scope, count(*) as n
    from spine as s
    inner join pairs as p on p.sid = s.sid and p.shared_from < s.as_of
    where not coalesce(p.big_from < s.as_of, false)
    group by all
),

spine_sets as (
    -- B: the big identifiers the seller held before as_of.
    select s.seller_id, s.as_of, b.scope, list_sort(list(b.big_id)) as big_set
    from spine as s
    inner join scoped_big as b on b.sid = s.sid and b.first_seen_at < s.as_of
    group by all
),

sets as (
    select scope, big_set, row_number() over () as set_id
    from (select distinct scope, big_set from spine_sets)
),

set_holders as (
    -- Every holder of any identifier in the set, at its earliest sighting of one of them.
    select m.set_id, b.sid, min(b.first_seen_at) as first_at
    from (select set_id, scope, unnest(big_set) as big_id from sets) as m
    inner join scoped_big as b on b.scope = m.scope and b.big_id = m.big_id
    group by all
),

set_history as (
    select set_id, first_at,
        count(*) over (partition by set_id order by first_at range between unbounded preceding and current row) as n
    from set_holders
),

big_counts as (
    -- Holders seen before as_of, less the seller itself (it holds B by definition).
    select ss.seller_id, ss.as_of, ss.scope, h.n - 1 as n
    from spine_sets as ss
    inner join sets as st on st.scope = ss.scope and st.big_set = ss.big_set
    asof left join set_history as h on h.set_id = st.set_id and ss.as_of > h.first_at
),

counts as (
    select seller_id, as_of, scope, sum(n) as n
    from (select * from small_counts union all select * from big_counts)
    group by all
)

-- Per scope, the features of the spec group shared_identifiers (dbt_project.yml).
select seller_id, as_of,
    {{ feature_aggregates(feature_group('shared_identifiers', 'seller'), 'shared_identifiers') | join(',\n    ') }}
from counts
group by all
