#pragma once
// ctnn::ParameterSegment for the training policies: one named piece of a net's flat parameter
// array, and the helper that walks the pieces decay applies to.
//
// All parameters of a net live in one flat array and all gradients in another of the same size
// (docs/design.md). `net.parameter_segments()` describes that array, one segment per parameter
// tensor, in order: {layer_index, layer_name, name, offset, size, decay}. The struct itself is
// defined once, by the Net (ctnn/net/parameter_segment.hpp); this header re-exports it so the
// policies do not depend on the rest of net/. `decay` is false for biases and BatchNorm
// parameters, which weight decay and L1/L2 skip by default.
#include <cstddef>
#include <span>
#include <string>

#include "ctnn/error.hpp"
#include "ctnn/net/parameter_segment.hpp"

namespace ctnn {

namespace detail {

// Calls f(offset, size) for each range of a flat array of n values that decay applies to:
// segments with decay == true, or every segment when decay_all. An empty segment list stands for
// the whole array as one decaying segment (a bare vector with no net behind it).
// Throws ConfigError naming `who`, before calling f at all, when a segment runs past the end.
template <class F>
void for_each_decayed_range(std::span<const ParameterSegment> segments, std::size_t n,
                            bool decay_all, const char* who, F&& f) {
  if (segments.empty()) {
    if (n != 0) f(std::size_t{0}, n);
    return;
  }
  // All segments are checked before any is touched, so a bad list changes nothing.
  for (const ParameterSegment& s : segments)
    if (s.offset > n || s.size > n - s.offset)  // segments describe another array
      throw ConfigError(std::string(who) + ": parameter segment '" + s.layer_name + "." +
                        s.name + "' [" + std::to_string(s.offset) + ", " +
                        std::to_string(s.offset + s.size) + ") runs past the end of the " +
                        std::to_string(n) + " parameters given");
  for (const ParameterSegment& s : segments)
    if ((s.decay || decay_all) && s.size != 0) f(s.offset, s.size);
}

}  // namespace detail
}  // namespace ctnn
