// Plain configuration of the core, data only. Front ends translate their
// own syntax (collectd blocks, command line, config file) into this struct;
// settings.hpp checks it (validate()) so both report bad values alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tcpanomaly {

struct CaptureConfig {
  std::vector<std::string> interfaces;  // live interfaces: names, "any", globs ("veth*") or /regex/
  std::vector<std::string> exclude_interfaces;  // never watched when a pattern matches them
  double interface_grace_s = 60;        // a watched interface gone this long: its series go
  std::string read_file;                // offline capture (pcap/pcapng) instead of live
  std::string file_label;               // interface label for read_file; default: file base name
  std::string filter;                   // BPF filter expression, "" = everything
  int snaplen = 256;                    // headers only: IPv6 + extension headers + TCP options fit
  int buffer_size_mb = 32;              // kernel ring; small buffers drop under bursts (see README)
  bool promiscuous = false;
  int timeout_ms = 100;                 // packet buffer timeout; bounds snapshot latency
  int capture_threads = 1;              // per named interface: sockets in one PACKET_FANOUT group
  std::string kernel_counters = "off";  // off | on | auto: packets and bytes counted by a tc eBPF program
};

struct AnalysisConfig {
  std::vector<std::string> local_networks;  // CIDRs whose addresses count as local
  bool detect_local_addresses = true;       // live only: add the host's own addresses
  int top_peers = 0;                        // K; 0 = no peer label
  int peer_prefix_v4 = 24;
  int peer_prefix_v6 = 64;
  int max_series = 1000;                    // hard cap on label sets per snapshot
  std::uint32_t flow_table_size = 262144;   // tracked connections per capture thread
  bool separate_vlans = false;              // VLAN id in the connection key (overlapping address spaces)
  // Timeouts are idle times and follow TCP's own timers (README "Flow expiry").
  double syn_timeout_s = 20;                // handshake not completed: connects_failed
  double established_timeout_s = 7875;      // Linux keep-alive gives up: 7200 + 9 x 75 s
  double closed_timeout_s = 240;            // 2 MSL; retransmitted FINs come <= 120 s apart
  // Not a setting: the engine sets it when the kernel counters run, and
  // the pipelines then leave the IP traffic entries to them.
  bool ip_counted_by_kernel = false;
};

struct EngineConfig {
  CaptureConfig capture;
  AnalysisConfig analysis;
};

}  // namespace tcpanomaly
