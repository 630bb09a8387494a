#include "tcpanomaly/settings.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

namespace tcpanomaly {
namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

// Parsers: the whole text must be the value ("10x" is not 10).
long long parse_integer(std::string_view key, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE)
    throw ConfigError(std::string(key), "\"" + v + "\" is not " + describe(SettingType::integer));
  return n;
}

double parse_number(std::string_view key, const std::string& v) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(d))
    throw ConfigError(std::string(key), "\"" + v + "\" is not " + describe(SettingType::number));
  return d;
}

bool parse_boolean(std::string_view key, const std::string& v) {
  for (const char* t : {"true", "yes", "on", "1"})
    if (v == t) return true;
  for (const char* f : {"false", "no", "off", "0"})
    if (v == f) return false;
  throw ConfigError(std::string(key), "\"" + v + "\" is not " + describe(SettingType::boolean));
}

void require_range(std::string_view key, double value, double lo, double hi) {
  if (!(value >= lo && value <= hi) || !std::isfinite(value))
    throw ConfigError(std::string(key), number_text(value) + " is out of range, accepted: " + number_text(lo) +
                                            " .. " + number_text(hi));
}

// One table row, bound to a field of one config section by member pointers.
// Numeric rows carry their accepted range [lo, hi]; the range is checked
// before the value is stored (a negative flow-table size must not wrap).
template <class Section, class T>
Setting row(std::string_view key, std::string_view cli, std::string_view collectd, std::string_view unit,
            std::string_view help, Section EngineConfig::*section, T Section::*field, double lo = 0,
            double hi = 0) {
  const std::string_view group = std::is_same_v<Section, CaptureConfig> ? "capture" : "analysis";
  Setting s{key, cli, collectd, SettingType::text, group, unit, help, lo, hi, {}, {}, [](const EngineConfig&) {}};
  auto get = [section, field](EngineConfig& c) -> T& { return (c.*section).*field; };
  auto cget = [section, field](const EngineConfig& c) -> const T& { return (c.*section).*field; };
  if constexpr (std::is_same_v<T, std::string>) {
    s.apply = [get](EngineConfig& c, const std::string& v) { get(c) = v; };
    s.show = [cget](const EngineConfig& c) { return cget(c); };
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    s.type = SettingType::text_list;
    s.apply = [get](EngineConfig& c, const std::string& v) { get(c).push_back(v); };
    s.show = [cget](const EngineConfig& c) {
      std::string out;
      for (const auto& v : cget(c)) out += (out.empty() ? "" : " ") + v;
      return out;
    };
  } else if constexpr (std::is_same_v<T, bool>) {
    s.type = SettingType::boolean;
    s.apply = [get, key](EngineConfig& c, const std::string& v) { get(c) = parse_boolean(key, v); };
    s.show = [cget](const EngineConfig& c) { return std::string(cget(c) ? "true" : "false"); };
  } else if constexpr (std::is_floating_point_v<T>) {
    s.type = SettingType::number;
    s.apply = [get, key, lo, hi](EngineConfig& c, const std::string& v) {
      const double d = parse_number(key, v);
      require_range(key, d, lo, hi);
      get(c) = static_cast<T>(d);
    };
    s.show = [cget](const EngineConfig& c) { return number_text(cget(c)); };
    s.check = [cget, key, lo, hi](const EngineConfig& c) { require_range(key, cget(c), lo, hi); };
  } else {
    s.type = SettingType::integer;
    s.apply = [get, key, lo, hi](EngineConfig& c, const std::string& v) {
      const long long n = parse_integer(key, v);
      require_range(key, static_cast<double>(n), lo, hi);
      get(c) = static_cast<T>(n);
    };
    s.show = [cget](const EngineConfig& c) { return std::to_string(cget(c)); };
    s.check = [cget, key, lo, hi](const EngineConfig& c) { require_range(key, static_cast<double>(cget(c)), lo, hi); };
  }
  return s;
}

// A text setting with a fixed set of accepted values (the first is the default).
Setting choice_row(std::string_view key, std::string_view cli, std::string_view collectd, std::string_view help,
                   std::string CaptureConfig::*field, std::vector<std::string> accepted) {
  Setting s = row(key, cli, collectd, "", help, &EngineConfig::capture, field);
  std::string list;
  for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
  auto check = [key, field, accepted, list](const std::string& v) {
    for (const auto& a : accepted)
      if (v == a) return;
    throw ConfigError(std::string(key), "\"" + v + "\" is not accepted, accepted: " + list);
  };
  s.apply = [field, check](EngineConfig& c, const std::string& text) {
    std::string v = text;
    for (const char* t : {"true", "yes", "1"})
      if (v == t) v = "on";
    for (const char* f : {"false", "no", "0"})
      if (v == f) v = "off";
    check(v);
    c.capture.*field = v;
  };
  s.takes_boolean = true;
  s.check = [field, check](const EngineConfig& c) { check(c.capture.*field); };
  return s;
}

std::vector<Setting> make_table() {
  using E = EngineConfig;
  using C = CaptureConfig;
  using A = AnalysisConfig;
  return {
      // Capture
      row("interface", "interface", "Interface", "NAME",
          "capture on this interface (repeatable; \"any\" = all, split per interface; a glob such as "
          "\"veth*\" or a /regex/ watches every matching interface, present and future)",
          &E::capture, &C::interfaces),
      row("read_file", "read", "ReadFile", "FILE", "analyse this pcap/pcapng file instead of live traffic",
          &E::capture, &C::read_file),
      row("file_label", "label", "ReadFileLabel", "NAME", "interface label for the file (default: its base name)",
          &E::capture, &C::file_label),
      row("exclude_interface", "exclude-interface", "ExcludeInterface", "NAME",
          "an interface a pattern matches that is not watched (repeatable; name, glob or /regex/)",
          &E::capture, &C::exclude_interfaces),
      row("capture_threads", "capture-threads", "CaptureThreads", "N",
          "capture threads per named interface (and any), each with its own flow table; the kernel "
          "splits the frames by connection (PACKET_FANOUT_HASH)", &E::capture, &C::capture_threads, 1, 64),
      row("interface_grace", "interface-grace", "InterfaceGrace", "s",
          "a watched interface that disappeared keeps its series this long", &E::capture,
          &C::interface_grace_s, 0, 86400),
      choice_row("kernel_counters", "kernel-counters", "KernelCounters",
                 "count every packet and byte per interface, direction and protocol in the kernel (a tc eBPF "
                 "program on ingress and egress; the capture then takes TCP only). auto: on where the kernel "
                 "allows it, else counted by the capture, with a warning saying why; needs CAP_BPF, "
                 "CAP_PERFMON and CAP_NET_ADMIN", &C::kernel_counters, {"off", "on", "auto"}),
      row("filter", "filter", "Filter", "BPF", "capture filter (tcpdump syntax); empty = all traffic",
          &E::capture, &C::filter),
      row("snaplen", "snaplen", "SnapLen", "bytes", "bytes captured per packet (headers only is enough)",
          &E::capture, &C::snaplen, 64, 262144),
      row("buffer_size", "buffer-size", "BufferSize", "MiB", "kernel capture buffer per interface",
          &E::capture, &C::buffer_size_mb, 1, 4096),
      row("promiscuous", "promiscuous", "Promiscuous", "", "put the interfaces in promiscuous mode",
          &E::capture, &C::promiscuous),
      row("timeout", "timeout", "CaptureTimeout", "ms", "capture buffer timeout (bounds the delay of live counts)",
          &E::capture, &C::timeout_ms, 1, 10000),
      // Analysis
      row("local_network", "local-net", "LocalNetwork", "CIDR",
          "addresses in this network are local (repeatable); sets the direction label", &E::analysis,
          &A::local_networks),
      row("host_addresses", "host-addresses", "HostAddresses", "",
          "live: the host's own interface addresses are local too", &E::analysis, &A::detect_local_addresses),
      row("top_peers", "top-peers", "TopPeers", "K", "label the K remote prefixes with most anomalies; 0 = no peer label",
          &E::analysis, &A::top_peers, 0, 1000),
      row("peer_prefix_v4", "peer-prefix-v4", "PeerPrefixLength", "bits", "IPv4 prefix length of a peer",
          &E::analysis, &A::peer_prefix_v4, 0, 32),
      row("peer_prefix_v6", "peer-prefix-v6", "PeerPrefixLengthV6", "bits", "IPv6 prefix length of a peer",
          &E::analysis, &A::peer_prefix_v6, 0, 128),
      // At least the interface block and the three direction blocks.
      row("max_series", "max-series", "MaxSeries", "N", "hard cap on label sets per interface; the rest is peer=other",
          &E::analysis, &A::max_series, 4, 1000000),
      row("flow_table_size", "flow-table-size", "FlowTableSize", "N",
          "connections tracked per interface (memory is allocated at start)", &E::analysis, &A::flow_table_size, 1, 1u << 26),
      row("separate_vlans", "separate-vlans", "SeparateVlans", "",
          "the same addresses and ports on two VLANs are two connections (default: a VLAN tag is ignored)",
          &E::analysis, &A::separate_vlans),
      row("syn_timeout", "syn-timeout", "SynTimeout", "s", "an unanswered SYN older than this is a failed connect",
          &E::analysis, &A::syn_timeout_s, 0.001, 86400),
      row("established_timeout", "established-timeout", "EstablishedTimeout", "s",
          "an idle open connection is forgotten after this (default: when Linux keep-alive gives up)", &E::analysis, &A::established_timeout_s, 0.001, 31536000),
      row("closed_timeout", "closed-timeout", "ClosedTimeout", "s",
          "a closed connection is kept while idle for less than this (its FIN/RST retransmissions)", &E::analysis, &A::closed_timeout_s, 0.001, 86400),
  };
}

template <class Member>
const Setting* find_by(std::string_view wanted, Member member) {
  for (const Setting& s : settings())
    if (s.*member == wanted) return &s;
  return nullptr;
}

}  // namespace

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = make_table();
  return table;
}

const Setting* find_setting_by_cli(std::string_view cli) { return find_by(cli, &Setting::cli); }
const Setting* find_setting_by_collectd(std::string_view key) { return find_by(key, &Setting::collectd); }
const Setting* find_setting_by_key(std::string_view key) { return find_by(key, &Setting::key); }

std::string describe(SettingType type) {
  switch (type) {
    case SettingType::text:
    case SettingType::text_list: return "a string";
    case SettingType::integer: return "an integer";
    case SettingType::number: return "a number";
    case SettingType::boolean: return "true or false";
  }
  return "";
}

}  // namespace tcpanomaly
