# Linda heartbeat for site @SITE@ - RouterOS v7.13 or newer (:serialize, :onerror).
# Paste into a RouterOS terminal. Posts one heartbeat a minute to @URL@
# and keeps up to @MAX@ unsent beats while the link is down. Older v7: use the --v6 script.
/system scheduler remove [find where name="linda-hb"]
/system script remove [find where name="linda-hb"]
/system script add name="linda-hb" policy=read,write,policy,test source={
:global lindaBoot
:global lindaSeq
:global lindaQueue
:local url "@URL@/api/v1/heartbeats"
:local key "@KEY@"
:local wan "@WAN@"
:local target "@TARGET@"
:if ([:typeof $lindaBoot] != "num") do={
  :set lindaBoot ([:tonum [/system scheduler get [find where name="linda-hb"] comment]] + 1)
  /system scheduler set [find where name="linda-hb"] comment=$lindaBoot
  :set lindaSeq 0
  :set lindaQueue [:toarray ""]
}
:set lindaSeq ($lindaSeq + 1)
:local res [/system resource get]
:local up [:tonum ($res->"uptime")]
:local beat {"v"=1; "seq"=($lindaBoot * @SEQ_PER_BOOT@ + $lindaSeq); "uptime_s"=$up; "cpu_load_pct"=($res->"cpu-load")}
:foreach h in=[/system health find] do={
  :local n [/system health get $h name]
  :local v [/system health get $h value]
  :if ($n = "voltage") do={ :set ($beat->"supply_voltage_v") $v }
  :if (($n ~ "temperature") && ([:typeof ($beat->"temperature_c")] = "nothing")) do={ :set ($beat->"temperature_c") $v }
}
:do {
  :local i [/interface find where name=$wan]
  :local counters {"rx_bytes"=[/interface get $i rx-byte]; "tx_bytes"=[/interface get $i tx-byte]}
  :local w [:toarray ""]
  :set ($w->$wan) $counters
  :set ($beat->"wan") $w
} on-error={}
:do { :set ($beat->"hotspot_users") [:len [/ip hotspot active find]] } on-error={}
:do { :set ($beat->"dhcp_leases") [:len [/ip dhcp-server lease find where status="bound"]] } on-error={}
:local pingRtt 0
:local pingRecv 0
:do {
  /tool flood-ping $target count=5 interval=200ms timeout=1s do={
    :if ($sent = 5) do={ :set pingRecv $received; :set pingRtt $"avg-rtt" }
  }
} on-error={}
:set ($beat->"loss_pct") ((5 - $pingRecv) * 20)
:if ($pingRecv > 0) do={ :set ($beat->"rtt_ms") $pingRtt }
:set ($lindaQueue->[:len $lindaQueue]) $beat
:while ([:len $lindaQueue] > @MAX@) do={ :set lindaQueue [:pick $lindaQueue 1 [:len $lindaQueue]] }
:local batch [:toarray ""]
:foreach b in=$lindaQueue do={
  :local item $b
  :set ($item->"age_s") ($up - ($b->"uptime_s"))
  :set ($batch->[:len $batch]) $item
}
:local body [:serialize to=json value={"v"=1; "heartbeats"=$batch}]
:onerror err in={
  /tool fetch url=$url http-method=post http-header-field=("Authorization: Bearer " . $key . ",Content-Type: application/json") http-data=$body output=none
  :set lindaQueue [:toarray ""]
} do={
  :if (($err ~ "<4[0-9][0-9] ") && !($err ~ "<429 ")) do={ :set lindaQueue [:toarray ""] }
  :log warning ("linda-hb: not sent, " . [:len $lindaQueue] . " beats buffered: " . $err)
}
}
/system scheduler add name="linda-hb" comment="@BOOT_BASE@" interval=1m start-time=startup policy=read,write,policy,test on-event="/system script run linda-hb"
/system script run linda-hb
