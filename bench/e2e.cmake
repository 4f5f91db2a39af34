# End-to-end benchmark executables (bench/run builds the same two with g++ directly).
# Included by bench/CMakeLists.txt (every bench/*.cmake fragment); needs the ctnn::ctnn target.
#   e2e_ctnn     ctnn on the Fashion-MNIST CNN and the 384x384 CNN (bench/e2e_ctnn.cpp)
#   e2e_tinydnn  tiny-dnn on the Fashion-MNIST CNN, only when its headers and the headers it
#                includes without depending on them (libcereal-dev, libstb-dev, libgemmlowp-dev)
#                are installed
include_guard(GLOBAL)

# Built for this machine's instruction set unless CTNN_NATIVE (bench/CMakeLists.txt) is OFF.
if(NOT DEFINED CTNN_NATIVE OR CTNN_NATIVE)
  set(_ctnn_e2e_arch -march=native)
else()
  set(_ctnn_e2e_arch)
endif()

add_executable(e2e_ctnn ${CMAKE_CURRENT_LIST_DIR}/e2e_ctnn.cpp)
target_link_libraries(e2e_ctnn PRIVATE ctnn::ctnn)  # brings OpenMP and zlib
target_compile_options(e2e_ctnn PRIVATE ${_ctnn_e2e_arch})

find_path(CTNN_TINY_DNN_DIR tiny_dnn/tiny_dnn.h)
find_path(CTNN_CEREAL_DIR cereal/cereal.hpp)
find_path(CTNN_STB_DIR stb/stb_image.h)
find_path(CTNN_GEMMLOWP_DIR gemmlowp/public/gemmlowp.h)
find_package(OpenMP)
if(CTNN_TINY_DNN_DIR AND CTNN_CEREAL_DIR AND CTNN_STB_DIR AND CTNN_GEMMLOWP_DIR AND OpenMP_CXX_FOUND)
  # tiny-dnn includes "third_party/stb/stb_image.h"; Debian installs <stb/stb_image.h>.
  set(_shim ${CMAKE_CURRENT_BINARY_DIR}/tinydnn-shim)
  file(MAKE_DIRECTORY ${_shim}/third_party)
  file(CREATE_LINK ${CTNN_STB_DIR}/stb ${_shim}/third_party/stb SYMBOLIC)
  find_package(ZLIB REQUIRED)
  add_executable(e2e_tinydnn ${CMAKE_CURRENT_LIST_DIR}/e2e_tinydnn.cpp)
  target_include_directories(e2e_tinydnn PRIVATE ${_shim})
  target_compile_features(e2e_tinydnn PRIVATE cxx_std_17)
  # CNN_USE_OMP: honour omp_set_num_threads (the default std::async pool uses every core).
  target_compile_definitions(e2e_tinydnn PRIVATE CNN_USE_OMP CNN_USE_AVX)
  target_compile_options(e2e_tinydnn PRIVATE ${_ctnn_e2e_arch} -w)
  target_link_libraries(e2e_tinydnn PRIVATE OpenMP::OpenMP_CXX ZLIB::ZLIB)
else()
  message(STATUS "e2e_tinydnn not built: needs tiny-dnn, libcereal-dev, libstb-dev, libgemmlowp-dev and OpenMP")
endif()
