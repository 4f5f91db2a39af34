#pragma once
// ParameterSegment: one contiguous run of a net's flat parameter array, so optimizers and
// regularizers can treat weights, biases and BatchNorm parameters differently.
#include <cstddef>
#include <string>

namespace ctnn {

struct ParameterSegment {
  std::size_t layer_index = 0;  // position in Net<...> (Input is 0)
  std::string layer_name;       // "Conv<32, 3, 1, 0>"
  std::string name;             // "weight", "bias", "gamma", "beta"; "2.weight" inside Residual
  std::size_t offset = 0;
  std::size_t size = 0;
  bool decay = true;            // false for biases and BatchNorm parameters
};

}  // namespace ctnn
