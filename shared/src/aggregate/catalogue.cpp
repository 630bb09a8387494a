// The metric catalogue (names fixed by DESIGN.md; README's table is checked
// against this by tests/unit/catalogue_test.cpp).
#include <array>
#include <cmath>
#include <limits>
#include <cstring>

#include "tcpanomaly/metrics.hpp"
#include "tcpanomaly/snapshot.hpp"

namespace tcpanomaly {
namespace {

using K = MetricKind;
using S = MetricScope;

const MetricInfo kCatalogue[] = {
    {"packets", K::counter, S::flow, "", "ip || ipv6", "IP packets, tags proto=tcp|udp|icmp|other and ip=4|6 (with kernel_counters: counted by the tc program)"},
    {"bytes", K::counter, S::flow, "bytes", "", "IP bytes (IP total length), tags proto and ip (with kernel_counters: counted by the tc program)"},
    {"ip_df", K::counter, S::flow, "", "ip.flags.df == 1", "IPv4 packets with Don't Fragment set (with kernel_counters: counted by the tc program)"},
    {"ip_fragments", K::counter, S::flow, "", "", "IP fragments (IPv4 MF/offset, IPv6 fragment header; atomic fragments excluded) (with kernel_counters: counted by the tc program)"},
    {"tcp_segments", K::counter, S::flow, "", "tcp", "TCP segments"},
    {"tcp_payload_bytes", K::counter, S::flow, "bytes", "", "TCP payload bytes (from IP lengths, not captured bytes)"},
    {"retransmissions", K::counter, S::flow, "", "tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission", "retransmitted segments, fast and spurious included"},
    {"fast_retransmissions", K::counter, S::flow, "", "tcp.analysis.fast_retransmission", "retransmissions after >= 2 duplicate ACKs, within 20 ms"},
    {"spurious_retransmissions", K::counter, S::flow, "", "tcp.analysis.spurious_retransmission", "retransmissions of data already acknowledged"},
    {"out_of_order", K::counter, S::flow, "", "tcp.analysis.out_of_order", "segments that arrived late (never for segments sent by a local address)"},
    {"lost_segments", K::counter, S::flow, "", "tcp.analysis.lost_segment", "segments after a gap in the sender's sequence space (previous segment not captured)"},
    {"acked_unseen", K::counter, S::flow, "", "tcp.analysis.ack_lost_segment", "ACKs covering data that was never captured"},
    {"duplicate_acks", K::counter, S::flow, "", "tcp.analysis.duplicate_ack", "duplicate ACKs"},
    {"zero_windows", K::counter, S::flow, "", "tcp.analysis.zero_window", "segments advertising a zero receive window"},
    {"zero_window_probes", K::counter, S::flow, "", "tcp.analysis.zero_window_probe", "zero-window probes (1 byte at the next sequence number)"},
    {"zero_window_episodes", K::counter, S::flow, "", "", "times a sender's advertised window fell to zero (the kernel's TcpExtTCPToZeroWindowAdv)"},
    {"window_full", K::counter, S::flow, "", "tcp.analysis.window_full", "segments that fill the receiver's advertised window"},
    {"window_updates", K::counter, S::flow, "", "tcp.analysis.window_update", "pure window updates"},
    {"keep_alives", K::counter, S::flow, "", "tcp.analysis.keep_alive", "keep-alives (and Linux zero-window probes, which look the same)"},
    {"resets", K::counter, S::flow, "", "tcp.flags.reset == 1", "segments with RST"},
    {"syn", K::counter, S::flow, "", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "SYN segments without ACK, retransmissions included"},
    {"syn_retransmissions", K::counter, S::flow, "", "tcp.flags.syn == 1 && tcp.flags.ack == 0 && (tcp.analysis.retransmission || tcp.analysis.out_of_order)", "retransmitted SYNs (same ISN)"},
    {"connects_refused", K::counter, S::flow, "", "", "SYNs answered by RST"},
    {"connects_failed", K::counter, S::flow, "", "", "SYNs never answered within syn_timeout"},
    {"connections_opened", K::counter, S::flow, "", "", "handshakes completed (SYN, SYN/ACK, ACK)"},
    {"connections_closed", K::counter, S::flow, "", "", "opened connections that ended, tag kind=fin|rst|timeout|evicted"},
    {"connections_active", K::gauge, S::flow, "", "", "opened connections not yet closed"},
    {"handshake_rtt", K::histogram, S::flow, "seconds", "", "SYN to the ACK completing the handshake (the value of Wireshark's tcp.analysis.initial_rtt)"},
    {"rtt", K::histogram, S::flow, "seconds", "", "data segment to the ACK covering it, never from retransmitted data (Karn)"},
    {"connection_duration", K::histogram, S::flow, "seconds", "", "first packet to close of opened connections"},
    {"packet_size", K::histogram, S::flow, "bytes", "", "IP packet length, tag proto (with kernel_counters: counted by the tc program)"},
    {"syn_window_scale", K::counter, S::flow, "", "tcp.flags.syn == 1 && tcp.option_kind == 3", "SYN and SYN/ACK segments with the window scale option"},
    {"syn_sack_permitted", K::counter, S::flow, "", "tcp.flags.syn == 1 && tcp.option_kind == 4", "SYN and SYN/ACK segments with SACK permitted"},
    {"syn_timestamps", K::counter, S::flow, "", "tcp.flags.syn == 1 && tcp.option_kind == 8", "SYN and SYN/ACK segments with timestamps"},
    {"ecn_ce", K::counter, S::flow, "", "ip.dsfield.ecn == 3 || ipv6.tclass.ecn == 3", "IP packets marked Congestion Experienced (with kernel_counters: TCP's from the capture, the rest by the tc program)"},
    {"ecn_ece", K::counter, S::flow, "", "tcp.flags.ece == 1 && tcp.flags.syn == 0", "non-SYN segments with ECE"},
    {"ecn_cwr", K::counter, S::flow, "", "tcp.flags.cwr == 1 && tcp.flags.syn == 0", "non-SYN segments with CWR"},
    {"capture_received", K::counter, S::interface, "", "", "packets received by the capture (pcap_stats ps_recv; frames read, offline)"},
    {"capture_dropped", K::counter, S::interface, "", "", "packets dropped by the kernel: buffer full (pcap_stats ps_drop)"},
    {"capture_if_dropped", K::counter, S::interface, "", "", "packets dropped by the interface (pcap_stats ps_ifdrop)"},
    {"non_ip_frames", K::counter, S::interface, "", "", "frames that carry no IP (ARP, LLDP, ...) (with kernel_counters: counted by the tc program)"},
    {"decode_errors", K::counter, S::interface, "", "", "frames that could not be decoded, tag reason (with kernel_counters: TCP's from the capture, the rest by the tc program)"},
    {"flows_active", K::gauge, S::interface, "", "", "connections in the flow table"},
    {"flows_evicted", K::counter, S::interface, "", "", "flows removed from the table, tag reason=idle|closed|port_reuse|table_full (table_full also counts each segment that found no room: it is counted by its headers only)"},
    {"series_overflow", K::counter, S::interface, "", "", "peers kept in 'other' because the peer or series cap was reached"},
    {"kernel_counter_overflow", K::counter, S::interface, "", "", "frames the tc program could not count because its counter map was full (kernel_counters)"},
};

const SlotInfo kSlots[] = {
#define TCPANOMALY_SLOT(id, metric, k1, v1, k2, v2) {metric, {{k1, v1}, {k2, v2}}},
#include "tcpanomaly/slots.def"
#undef TCPANOMALY_SLOT
};
static_assert(sizeof(kSlots) / sizeof(kSlots[0]) == kSlotCount, "slot table");

// Seconds: 100 us .. 60 s, roughly x2.5 apart; covers LAN to satellite RTTs.
constexpr double kRttBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                             0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
constexpr double kDurationBounds[] = {0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 86400};
constexpr double kSizeBounds[] = {kPacketSizeBounds[0], kPacketSizeBounds[1], kPacketSizeBounds[2],
                                  kPacketSizeBounds[3], kPacketSizeBounds[4], kPacketSizeBounds[5],
                                  kPacketSizeBounds[6]};
static_assert(sizeof(kSizeBounds) / sizeof(kSizeBounds[0]) == kPacketSizeBoundCount, "one list of size bounds");

// Each list padded with +Inf to kMaxBuckets entries, so observe() can
// binary-search without reading the count (see there).
template <std::size_t N>
constexpr std::array<double, kMaxBuckets> padded(const double (&b)[N]) {
  static_assert(N < kMaxBuckets, "one padding entry at least");
  std::array<double, kMaxBuckets> r{};
  for (std::size_t i = 0; i < kMaxBuckets; ++i) r[i] = i < N ? b[i] : std::numeric_limits<double>::infinity();
  return r;
}
constexpr auto kRttPadded = padded(kRttBounds);
constexpr auto kDurationPadded = padded(kDurationBounds);
constexpr auto kSizePadded = padded(kSizeBounds);

#define BOUNDS(b) b##Padded.data(), sizeof(b##Bounds) / sizeof(b##Bounds[0])
const HistogramInfo kHistograms[] = {
    {"handshake_rtt", "", "", BOUNDS(kRtt)},
    {"rtt", "", "", BOUNDS(kRtt)},
    {"connection_duration", "", "", BOUNDS(kDuration)},
    {"packet_size", "proto", "tcp", BOUNDS(kSize)},
    {"packet_size", "proto", "udp", BOUNDS(kSize)},
    {"packet_size", "proto", "icmp", BOUNDS(kSize)},
    {"packet_size", "proto", "other", BOUNDS(kSize)},
};
#undef BOUNDS
static_assert(sizeof(kHistograms) / sizeof(kHistograms[0]) == kHistogramCount, "histogram table");

}  // namespace

const SlotInfo& slot_info(Slot s) { return kSlots[static_cast<std::size_t>(s)]; }
const HistogramInfo& histogram_info(Histogram h) { return kHistograms[static_cast<std::size_t>(h)]; }

const MetricInfo* metric_catalogue(std::size_t& count) {
  count = sizeof(kCatalogue) / sizeof(kCatalogue[0]);
  return kCatalogue;
}

const MetricInfo* find_metric(std::string_view name) {
  for (const auto& m : kCatalogue)
    if (m.name == name) return &m;
  return nullptr;
}

void HistogramData::merge(const HistogramData& o) {
  count += o.count;
  sum += o.sum;
  for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += o.buckets[i];
}

std::uint64_t Snapshot::total(Slot s) const {
  std::uint64_t t = 0;
  for (const auto& b : blocks) t += b[s];
  return t;
}

std::uint64_t Snapshot::total(std::string_view metric) const {
  std::uint64_t t = 0;
  for (std::size_t i = 0; i < kSlotCount; ++i)
    if (slot_info(static_cast<Slot>(i)).metric == metric) t += total(static_cast<Slot>(i));
  return t;
}

HistogramData Snapshot::total(Histogram h) const {
  HistogramData t;
  for (const auto& b : blocks) t.merge(b.histograms[static_cast<std::size_t>(h)]);
  return t;
}

}  // namespace tcpanomaly
