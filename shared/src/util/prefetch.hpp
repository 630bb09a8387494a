#pragma once
// Prefetch hints shared by the stages (the flow table's records, the
// capture ring's frames).

namespace tcpanomaly {

// A prefetch hint that the compiler keeps. GCC's dead-code elimination
// treats __builtin_prefetch as having no effect and deletes it when it is all
// that a branch or a loop does (the flow-record prefetch in the pipeline
// vanished that way once it was inlined); an asm statement is never deleted.
inline void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
  asm volatile("" : : "r"(p));  // keeps p live; no memory clobber, values stay in registers
#endif
}

}  // namespace tcpanomaly
