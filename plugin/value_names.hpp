// How catalogue samples become collectd identifiers. Plain C++ (no collectd
// headers) so the naming is unit-tested and documented from one place.
//
//   plugin          "tcpanomaly"
//   plugin_instance the interface
//   type            the catalogue metric (a data set registered by us), or a
//                   standard types.db type where ours would clash with it
//   type_instance   the sample's other labels as "key=value" pairs joined by
//                   ",": direction, peer, enum tags (proto, ip, kind, reason)
//                   and "le" for histogram buckets; "" when there are none
//
// write_prometheus then names a counter collectd_tcpanomaly_<type>_total with
// labels tcpanomaly="<interface>" and type="<type_instance>".
#pragma once

#include <string>
#include <vector>

#include "tcpanomaly/encode.hpp"

namespace tcpanomaly::collectd_names {

enum class ValueType { derive, gauge };

struct DataSetSpec {
  std::string type;  // collectd type name
  ValueType value_type;
  bool register_it;  // false: a standard types.db type with the same shape
};

// Every data set the plugin dispatches to, one per catalogue field.
std::vector<DataSetSpec> data_sets();

// The collectd type of a sample's field (metric, or metric_bucket/_count/_sum).
std::string type_of(const Sample& s);
ValueType value_type_of(const Sample& s);
// "direction=out,proto=tcp,ip=4"; '/' in a peer prefix becomes '_' because
// '/' separates the parts of a collectd identifier.
std::string type_instance_of(const Sample& s);

}  // namespace tcpanomaly::collectd_names
