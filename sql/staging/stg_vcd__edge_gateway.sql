-- stg_vcd__edge_gateway: VCD edge gateway samples (/cloudapi/1.0.0/edgeGateways), renamed and
--   cast for rating.
-- grain: one row per collected record: usually one per site × edge gateway × sample_time.
-- parameters: none (reads the engine's view `vcd_edge_gateway` over the lake dataset of that
--   name).
-- feeds: intermediate/int_samples.sql (the gateway's existence and its allocated IPs).
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(edge_gateway_id as varchar) as edge_gateway_id,
    cast(edge_gateway_name as varchar) as edge_gateway_name,
    cast(allocated_ip_count as bigint) as allocated_ip_count,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from vcd_edge_gateway
