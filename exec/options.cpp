#include "options.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace po = boost::program_options;

namespace tcpanomaly::cli {
namespace {

template <class T>
T pick(const std::string& key, const std::string& value,
       std::initializer_list<std::pair<const char*, T>> accepted) {
  std::string names;
  for (const auto& [name, v] : accepted) {
    if (value == name) return v;
    names += names.empty() ? name : std::string(", ") + name;
  }
  throw std::runtime_error("--" + key + ": \"" + value + "\" is not accepted, accepted: " + names);
}

}  // namespace

std::string option_name(const std::string& core_key) {
  if (core_key == "local_network") return "--local-net";
  std::string name = "--" + core_key;
  for (char& c : name)
    if (c == '_') c = '-';
  return name;
}

Options parse(int argc, char** argv) {
  Options o;
  auto& cap = o.engine.capture;
  auto& an = o.engine.analysis;
  std::string format = "influx", signal = "none", config_file;

  po::options_description general("General");
  general.add_options()
      ("help,h", "show this help and exit")
      ("version", "show the version and exit")
      ("list-metrics", "print the metric catalogue (Markdown table) and exit")
      ("config", po::value(&config_file), "read options from FILE (key = value, same names as below)")
      ("format", po::value(&format)->default_value("influx"), "output: influx (line protocol), json, table");

  po::options_description capture("Capture");
  capture.add_options()
      ("read,r", po::value(&cap.read_file), "analyse a pcap/pcapng FILE and print one snapshot (offline mode)")
      ("label", po::value(&cap.file_label), "interface label for --read (default: the file's base name)")
      ("interface,i", po::value(&cap.interfaces)->composing(), "capture on INTERFACE (repeatable; \"any\" allowed)")
      ("filter,f", po::value(&cap.filter), "BPF capture filter")
      ("snaplen", po::value(&cap.snaplen)->default_value(cap.snaplen), "bytes captured per packet (headers only)")
      ("buffer-size", po::value(&cap.buffer_size_mb)->default_value(cap.buffer_size_mb), "kernel capture buffer, MiB")
      ("promiscuous", po::bool_switch(&cap.promiscuous), "put interfaces in promiscuous mode")
      ("timeout", po::value(&cap.timeout_ms)->default_value(cap.timeout_ms), "capture buffer timeout, ms");

  po::options_description analysis("Analysis");
  analysis.add_options()
      ("local-net", po::value(&an.local_networks)->composing(), "CIDR whose addresses are local (repeatable)")
      ("no-host-addresses", "don't treat this host's own addresses as local (live mode)")
      ("top-peers", po::value(&an.top_peers)->default_value(an.top_peers), "label the K peers with most anomalies (0 = no peer label)")
      ("peer-prefix-v4", po::value(&an.peer_prefix_v4)->default_value(an.peer_prefix_v4), "IPv4 peer prefix length")
      ("peer-prefix-v6", po::value(&an.peer_prefix_v6)->default_value(an.peer_prefix_v6), "IPv6 peer prefix length")
      ("max-series", po::value(&an.max_series)->default_value(an.max_series), "hard cap on label sets per snapshot")
      ("flow-table-size", po::value(&an.flow_table_size)->default_value(an.flow_table_size), "connections tracked per interface")
      ("syn-timeout", po::value(&an.syn_timeout_s)->default_value(an.syn_timeout_s), "seconds before an unanswered SYN counts as a failed connect")
      ("established-timeout", po::value(&an.established_timeout_s)->default_value(an.established_timeout_s), "seconds an idle open connection is kept")
      ("closed-timeout", po::value(&an.closed_timeout_s)->default_value(an.closed_timeout_s), "seconds a closed connection lingers");

  po::options_description execd("Telegraf execd");
  execd.add_options()
      ("signal", po::value(&signal)->default_value("none"), "when to print: none (every --interval), STDIN, SIGHUP, SIGUSR1, SIGUSR2")
      ("interval", po::value(&o.interval_s)->default_value(o.interval_s), "seconds between snapshots with --signal none")
      ("duration", po::value(&o.duration_s)->default_value(0.0), "live: stop after SECONDS (0 = run until stdin closes or SIGTERM)");

  po::options_description all;
  all.add(general).add(capture).add(analysis).add(execd);
  std::ostringstream help;
  help << "tcpanomaly: TCP health metrics from packet capture\n\n"
          "Usage: tcpanomaly --read FILE [--format json|influx|table] [options]\n"
          "       tcpanomaly --interface IF [--interface IF2 ...] [--signal MODE] [options]\n"
       << all;
  o.help_text = help.str();

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, all), vm);
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw std::runtime_error("--config: cannot read \"" + path + "\"");
      po::store(po::parse_config_file(in, all), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw std::runtime_error(e.what());
  }
  o.show_help = vm.count("help");
  o.show_version = vm.count("version");
  o.list_metrics = vm.count("list-metrics");
  if (vm.count("no-host-addresses")) an.detect_local_addresses = false;
  o.format = pick<Format>("format", format, {{"influx", Format::influx}, {"json", Format::json}, {"table", Format::table}});
  o.trigger = pick<Trigger>("signal", signal,
                            {{"none", Trigger::none}, {"STDIN", Trigger::stdin_line}, {"SIGHUP", Trigger::sighup},
                             {"SIGUSR1", Trigger::sigusr1}, {"SIGUSR2", Trigger::sigusr2}});
  if (!(o.interval_s > 0 && o.interval_s <= 86400))
    throw std::runtime_error("--interval: must be between 0 and 86400 seconds");
  if (!cap.read_file.empty() && !cap.interfaces.empty())
    throw std::runtime_error("--read and --interface: choose one");
  return o;
}

}  // namespace tcpanomaly::cli
