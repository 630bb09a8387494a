// Plain configuration of the core. Front ends translate their own syntax
// (collectd blocks, command line, config file) into this struct and call
// validate() so that both report bad values with the same words.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tcpanomaly {

struct CaptureConfig {
  std::vector<std::string> interfaces;  // live interfaces; "any" allowed
  std::string read_file;                // offline capture (pcap/pcapng) instead of live
  std::string file_label;               // interface label for read_file; default: file base name
  std::string filter;                   // BPF filter expression, "" = everything
  int snaplen = 256;                    // headers only: IPv6 + extension headers + TCP options fit
  int buffer_size_mb = 32;              // kernel ring; small buffers drop under bursts (see README)
  bool promiscuous = false;
  int timeout_ms = 100;                 // packet buffer timeout; bounds snapshot latency
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
};

struct EngineConfig {
  CaptureConfig capture;
  AnalysisConfig analysis;
};

// Thrown for an invalid setting. `key` is the core's snake_case name
// (e.g. "syn_timeout") so each front end can name it in its own spelling
// (--syn-timeout, SynTimeout); `problem` says what is wrong and what is accepted.
struct ConfigError : std::exception {
  ConfigError(std::string k, std::string p)
      : key(std::move(k)), problem(std::move(p)), message(key + ": " + problem) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string key, problem, message;
};
void validate(const EngineConfig& config);

}  // namespace tcpanomaly
