#pragma once
// The exceptions ctnn throws. Every message names what was wrong; FileError also names the file,
// what was expected and what was found, so a user can act on it without a debugger.
#include <stdexcept>
#include <string>

#include "ctnn/config.hpp"

namespace ctnn {

// Base of every ctnn exception.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A runtime setting or argument that makes no sense (batch size 0, NaN learning rate, ...).
struct ConfigError : Error {
  using Error::Error;
};

// A file that cannot be read or written, or whose contents are not what was expected.
struct FileError : Error {
  CTNN_COLD FileError(std::string path, std::string expected, std::string found)
      : Error(path + ": expected " + expected + ", found " + found),
        path_(std::move(path)), expected_(std::move(expected)), found_(std::move(found)) {}

  const std::string& path() const noexcept { return path_; }
  const std::string& expected() const noexcept { return expected_; }
  const std::string& found() const noexcept { return found_; }

 private:
  std::string path_, expected_, found_;
};

}  // namespace ctnn
