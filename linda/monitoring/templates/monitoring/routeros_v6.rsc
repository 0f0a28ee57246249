# Linda heartbeat for site @SITE@ - RouterOS v6 (also runs on v7 before 7.13).
# Paste into a RouterOS terminal. Posts one heartbeat a minute to @URL@
# and keeps up to @MAX@ unsent beats while the link is down.
/system scheduler remove [find where name="linda-hb"]
/system script remove [find where name="linda-hb"]
/system script add name="linda-hb" policy=read,write,policy,test source={
:global lindaBoot
:global lindaSeq
:global lindaQueue
:global lindaQueueUp
:local url "@URL@/api/v1/heartbeats"
:local key "@KEY@"
:local wan "@WAN@"
:local target "@TARGET@"
:if ([:typeof $lindaBoot] != "num") do={
  :set lindaBoot ([:tonum [/system scheduler get [find where name="linda-hb"] comment]] + 1)
  /system scheduler set [find where name="linda-hb"] comment=$lindaBoot
  :set lindaSeq 0
  :set lindaQueue [:toarray ""]
  :set lindaQueueUp [:toarray ""]
}
:set lindaSeq ($lindaSeq + 1)
:local up [:tonum [/system resource get uptime]]
:local beat ("\"v\":1,\"seq\":" . ($lindaBoot * @SEQ_PER_BOOT@ + $lindaSeq) . ",\"uptime_s\":" . $up . ",\"cpu_load_pct\":" . [/system resource get cpu-load])
# v6 reports voltage in tenths of a volt.
:do {
  :local dv [:tonum [/system health get voltage]]
  :set beat ($beat . ",\"supply_voltage_v\":" . ($dv / 10) . "." . ($dv % 10))
} on-error={}
:do { :set beat ($beat . ",\"temperature_c\":" . [:tonum [/system health get temperature]]) } on-error={}
:do {
  :local i [/interface find where name=$wan]
  :set beat ($beat . ",\"wan\":{\"" . $wan . "\":{\"rx_bytes\":" . [/interface get $i rx-byte] . ",\"tx_bytes\":" . [/interface get $i tx-byte] . "}}")
} on-error={}
:do { :set beat ($beat . ",\"hotspot_users\":" . [:len [/ip hotspot active find]]) } on-error={}
:do { :set beat ($beat . ",\"dhcp_leases\":" . [:len [/ip dhcp-server lease find where status="bound"]]) } on-error={}
:local pingRtt 0
:local pingRecv 0
:do {
  /tool flood-ping $target count=5 interval=200ms timeout=1s do={
    :if ($sent = 5) do={ :set pingRecv $received; :set pingRtt $"avg-rtt" }
  }
} on-error={}
:set beat ($beat . ",\"loss_pct\":" . ((5 - $pingRecv) * 20))
:if ($pingRecv > 0) do={ :set beat ($beat . ",\"rtt_ms\":" . $pingRtt) }
:set ($lindaQueue->[:len $lindaQueue]) $beat
:set ($lindaQueueUp->[:len $lindaQueueUp]) $up
:while ([:len $lindaQueue] > @MAX@) do={
  :set lindaQueue [:pick $lindaQueue 1 [:len $lindaQueue]]
  :set lindaQueueUp [:pick $lindaQueueUp 1 [:len $lindaQueueUp]]
}
:local body "{\"v\":1,\"heartbeats\":["
:for n from=0 to=([:len $lindaQueue] - 1) do={
  :if ($n > 0) do={ :set body ($body . ",") }
  :set body ($body . "{\"age_s\":" . ($up - [:pick $lindaQueueUp $n]) . "," . [:pick $lindaQueue $n] . "}")
}
:set body ($body . "]}")
:do {
  /tool fetch url=$url http-method=post http-header-field=("Authorization: Bearer " . $key . ",Content-Type: application/json") http-data=$body keep-result=no
  :set lindaQueue [:toarray ""]
  :set lindaQueueUp [:toarray ""]
} on-error={
  :log warning ("linda-hb: not sent, " . [:len $lindaQueue] . " beats buffered")
}
}
/system scheduler add name="linda-hb" comment="@BOOT_BASE@" interval=1m start-time=startup policy=read,write,policy,test on-event="/system script run linda-hb"
/system script run linda-hb
