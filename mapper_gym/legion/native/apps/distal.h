/*
 * What the DISTAL matmul programs (distal_2d.cc, distal_3d.cc) share: the field, block bounds,
 * the empty placement and fill/validate leaves, the DGEMM leaf body with the original's leading
 * dimensions (dimension 0's stride), the host timer and the program's output lines.
 */
#ifndef MAPPER_GYM_APPS_DISTAL_H
#define MAPPER_GYM_APPS_DISTAL_H

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

#include "cblas.h"
#include "common.h"

namespace mapper_gym {
namespace apps {
namespace distal {

enum FieldIDs { FID_VALS = 1 };

using Rect2 = Legion::Rect<2, Legion::coord_t>;
using Point2 = Legion::Point<2, Legion::coord_t>;

/* Start of block k of [0, extent) cut into `parts` (the models' block_bounds). */
inline Legion::coord_t block_lo(long long extent, long long parts, long long k) {
  return k * extent / parts;
}

/* The half-open rows [r0, r1) × columns [c0, c1). */
inline Rect2 rect(Legion::coord_t r0, Legion::coord_t r1, Legion::coord_t c0, Legion::coord_t c1) {
  return Rect2(Point2(r0, c0), Point2(r1 - 1, c1 - 1));
}

inline Rect2 domain_of(Legion::Runtime* runtime, Legion::LogicalRegion region) {
  return Rect2(runtime->get_index_space_domain(region.get_index_space()));
}

/* taco_fill: every entry of the block gets the task's argument (a double). */
inline void taco_fill_task(const Legion::Task* task,
                           const std::vector<Legion::PhysicalRegion>& regions, Legion::Context,
                           Legion::Runtime* runtime) {
  const double value = *static_cast<const double*>(task->args);
  const Legion::FieldAccessor<LEGION_WRITE_DISCARD, double, 2, Legion::coord_t> out(regions[0],
                                                                                   FID_VALS);
  for (Legion::PointInRectIterator<2> p(domain_of(runtime, task->regions[0].region)); p(); p++)
    out[*p] = value;
}

/* task_1 .. task_3: empty; mapping the requirement makes the block valid where it is placed. */
inline void placement_task(const Legion::Task*, const std::vector<Legion::PhysicalRegion>&,
                           Legion::Context, Legion::Runtime*) {}

/* taco_validate: the number of entries of the block that differ from n (the argument). */
inline long long taco_validate_task(const Legion::Task* task,
                                    const std::vector<Legion::PhysicalRegion>& regions,
                                    Legion::Context, Legion::Runtime* runtime) {
  const double expected = static_cast<double>(*static_cast<const long long*>(task->args));
  const Legion::FieldAccessor<LEGION_READ_ONLY, double, 2, Legion::coord_t> a(regions[0],
                                                                            FID_VALS);
  long long bad = 0;
  for (Legion::PointInRectIterator<2> p(domain_of(runtime, task->regions[0].region)); p(); p++) {
    const double value = a[*p];
    if (value != expected && bad++ < 5)
      std::printf("A(%lld,%lld) = %.17g, expected %.0f\n", (long long)p[0], (long long)p[1],
                  value, expected);
  }
  std::fflush(stdout);
  return bad;
}

/* The leading dimension the original takes from an instance: dimension 0's stride in elements. */
template <typename A>
blasint leading_dimension(const A& accessor) {
  return static_cast<blasint>(accessor.accessor.strides[0] /
                              static_cast<Legion::coord_t>(sizeof(double)));
}

/* The parameter number OpenBLAS's row-major cblas_dgemm reports for these leading dimensions (0
 * when it accepts them): it checks ldc (13), then the first operand's lda (reported as 10), then
 * the second operand's ldb (reported as 8); the last failing check wins. */
inline int rejected_parameter(blasint n, blasint k, blasint lda, blasint ldb, blasint ldc) {
  int info = 0;
  if (ldc < std::max<blasint>(1, n)) info = 13;
  if (lda < std::max<blasint>(1, k)) info = 10;
  if (ldb < std::max<blasint>(1, n)) info = 8;
  return info;
}

/* out (m × n, at `a`, leading dimension ldc) += B (m × k) · C (k × n), row-major, as the
 * original's leaf calls cblas_dgemm. A rejected call fails the run after OpenBLAS's own line. */
inline void dgemm(blasint m, blasint n, blasint k, const double* b, blasint lda, const double* c,
                  blasint ldb, double* a, blasint ldc) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  scipy_cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, b, lda, c, ldb, 1.0,
                    a, ldc);
  const int rejected = rejected_parameter(n, k, lda, ldb, ldc);
  if (rejected != 0) {
    // OpenBLAS printed its line and returned without computing: the run has failed.
    std::fflush(stdout);
    std::fprintf(stderr, "DGEMM parameter number %d had an illegal value\n", rejected);
    std::fflush(stderr);
    std::abort();
  }
}

/* A partition of `parent` by explicit rectangles, with a chosen color (LEGION_AUTO_GENERATE_ID:
 * any). */
inline Legion::IndexPartition partition(Legion::Context ctx, Legion::Runtime* runtime,
                                        Legion::IndexSpace parent, Legion::IndexSpace colors,
                                        const std::map<Legion::DomainPoint, Legion::Domain>& parts,
                                        Legion::PartitionKind kind,
                                        Legion::Color color = LEGION_AUTO_GENERATE_ID) {
  return runtime->create_partition_by_domain(ctx, parent, parts, colors,
                                             true /*perform_intersections*/, kind, color);
}

/* The per-iteration lines and the final one of the original (apps.md §4.1), plus MAPGYM timing
 * (the sum of the timed windows). */
class Timer {
 public:
  void record(int64_t start, int64_t stop) {
    if (times_ms_.empty()) window_start_ = start;
    window_stop_ = stop;
    total_ns_ += stop - start;
    times_ms_.push_back((stop - start) / 1000000);
    std::printf("Execution time: %lld ms.\n", times_ms_.back());
    std::fflush(stdout);
  }
  void report(long long n) const {
    long long sum_ms = 0;
    for (long long t : times_ms_) sum_ms += t;
    const double mean_ms = static_cast<double>(sum_ms) / static_cast<double>(times_ms_.size());
    const double flops = static_cast<double>(n) * n * (2.0 * n - 1.0);
    const long nodes =
        static_cast<long>(Realm::Machine::get_machine().get_address_space_count());
    std::printf("On %ld nodes achieved GFLOPS per node: %lf.\n", nodes,
                flops / (mean_ms / 1000.0) / 1e9 / nodes);
    std::fflush(stdout);
    report_timing(0.0, total_ns_ * 1e-9, window_start_, window_stop_);
  }

 private:
  std::vector<long long> times_ms_;
  int64_t window_start_ = 0, window_stop_ = 0, total_ns_ = 0;
};

/* An inner task with one CPU variant (virtual mappings; it only launches subtasks). */
template <void (*TASK)(const Legion::Task*, const std::vector<Legion::PhysicalRegion>&,
                       Legion::Context, Legion::Runtime*)>
void inner(Legion::TaskID id, const char* name) {
  Legion::TaskVariantRegistrar registrar(id, name);
  registrar.add_constraint(Legion::ProcessorConstraint(Legion::Processor::LOC_PROC));
  registrar.set_inner();
  Legion::Runtime::preregister_task_variant<TASK>(registrar, name);
}

}  // namespace distal
}  // namespace apps
}  // namespace mapper_gym

#endif
