# MPI data-parallel training (CTNN_WITH_MPI=ON): the INTERFACE target ctnn::mpi, which is
# ctnn::ctnn plus MPI::MPI_CXX (CMake's FindMPI). Programs that include <ctnn/train/mpi.hpp> or
# <ctnn/train/mpi_sweep.hpp> link it; everything else stays free of MPI.
#
# Included from the top-level CMakeLists.txt when CTNN_WITH_MPI is ON; tests/mpi.cmake and
# bench/mpi_scaling.cmake include it too, so its position there does not matter (include_guard
# makes the second inclusion a no-op, and MPI::MPI_CXX is promoted to a global target so every
# directory sees it). Sets MPI_CXX_FOUND in the including scope; when no MPI is found it warns
# and defines no target.
include_guard(GLOBAL)

# Only the C API is used: keep the deprecated C++ bindings (mpicxx.h) out of every translation unit.
set(MPI_CXX_SKIP_MPICXX TRUE)
find_package(MPI COMPONENTS CXX)

if(MPI_CXX_FOUND)
  if(NOT TARGET ctnn_mpi)
    set_target_properties(MPI::MPI_CXX PROPERTIES IMPORTED_GLOBAL TRUE)
    add_library(ctnn_mpi INTERFACE)
    add_library(ctnn::mpi ALIAS ctnn_mpi)
    target_link_libraries(ctnn_mpi INTERFACE ctnn::ctnn MPI::MPI_CXX)
  endif()
  # Remembered for tests/mpi.cmake and bench/mpi_scaling.cmake, which run mpiexec.
  set(CTNN_MPIEXEC ${MPIEXEC_EXECUTABLE} CACHE INTERNAL "mpiexec used by the MPI tests")
else()
  message(WARNING "CTNN_WITH_MPI is ON but CMake found no MPI for C++ (install libopenmpi-dev "
                  "openmpi-bin, or point MPI_HOME at an MPI installation); building without MPI")
endif()
