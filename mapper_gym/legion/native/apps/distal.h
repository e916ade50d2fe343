/*
 * What the DISTAL matmul programs (distal_2d.cc, distal_3d.cc) share: the field and the
 * matrices, block bounds and the half/copy partitions, the empty placement and fill/validate
 * leaves and their registration, the DGEMM leaf with the original's leading dimensions
 * (dimension 0's stride), the final validation, the host timer and the program's output lines.
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

/* The n × n matrices A, B and C over one index space, with their one field "vals". */
struct Matrices {
  Legion::IndexSpace square;
  Legion::LogicalRegion region[3];
};

inline const char* const kMatrixNames[3] = {"A", "B", "C"};

inline Matrices create_matrices(Legion::Context ctx, Legion::Runtime* runtime, long long n) {
  Legion::FieldSpace fs = runtime->create_field_space(ctx);
  {
    Legion::FieldAllocator allocator = runtime->create_field_allocator(ctx, fs);
    allocator.allocate_field(sizeof(double), FID_VALS);
    runtime->attach_name(fs, FID_VALS, "vals");
  }
  Matrices out;
  out.square = runtime->create_index_space(ctx, Legion::Domain(rect(0, n, 0, n)));
  for (int m = 0; m < 3; m++) {
    out.region[m] = runtime->create_logical_region(ctx, out.square, fs);
    runtime->attach_name(out.region[m], kMatrixNames[m]);
  }
  return out;
}

/* The two row halves of `region` (the models' `halves`), as partition `color` over `two`. */
inline void make_halves(Legion::Context ctx, Legion::Runtime* runtime,
                        Legion::LogicalRegion region, Legion::IndexSpace two, Legion::Color color) {
  const Rect2 r = domain_of(runtime, region);
  const Legion::coord_t mid = r.lo[0] + (r.hi[0] + 1 - r.lo[0]) / 2;
  std::map<Legion::DomainPoint, Legion::Domain> halves;
  halves[Legion::DomainPoint(Legion::Point<1>(0))] =
      Legion::Domain(rect(r.lo[0], mid, r.lo[1], r.hi[1] + 1));
  halves[Legion::DomainPoint(Legion::Point<1>(1))] =
      Legion::Domain(rect(mid, r.hi[0] + 1, r.lo[1], r.hi[1] + 1));
  partition(ctx, runtime, region.get_index_space(), two, halves, LEGION_DISJOINT_COMPLETE_KIND,
            color);
}

/* Two aliased copies of the whole of `region`, as partition `color` over `two`: the two
 * row-half leaves each read the block through their own copy, because one region shared by the
 * points of an index launch makes Legion rendezvous their mappings, which InstanceLimit's
 * back-pressure (holding one point back) would deadlock. */
inline void make_shared_copies(Legion::Context ctx, Legion::Runtime* runtime,
                               Legion::LogicalRegion region, Legion::IndexSpace two,
                               Legion::Color color) {
  const Legion::Domain whole(domain_of(runtime, region));
  std::map<Legion::DomainPoint, Legion::Domain> copies;
  copies[Legion::DomainPoint(Legion::Point<1>(0))] = whole;
  copies[Legion::DomainPoint(Legion::Point<1>(1))] = whole;
  partition(ctx, runtime, region.get_index_space(), two, copies, LEGION_ALIASED_COMPLETE_KIND,
            color);
}

template <Legion::PrivilegeMode P>
using Affine2 = Legion::FieldAccessor<P, double, 2, Legion::coord_t,
                                      Realm::AffineAccessor<double, 2, Legion::coord_t>>;

/* The DGEMM leaf (task_4) of both builds: A block (`a`, read-write or a sum reduction) += B block
 * (requirement 1) · C block (requirement 2), extents from the requirements. */
template <typename AccessorA>
void dgemm_leaf(const Legion::Task* task, const std::vector<Legion::PhysicalRegion>& regions,
                Legion::Runtime* runtime, const AccessorA& a) {
  const Rect2 a_rect = domain_of(runtime, task->regions[0].region);
  const Rect2 b_rect = domain_of(runtime, task->regions[1].region);
  const Rect2 c_rect = domain_of(runtime, task->regions[2].region);
  const Affine2<LEGION_READ_ONLY> b(regions[1], FID_VALS);
  const Affine2<LEGION_READ_ONLY> c(regions[2], FID_VALS);
  const blasint m = static_cast<blasint>(a_rect.hi[0] - a_rect.lo[0] + 1);
  const blasint n = static_cast<blasint>(a_rect.hi[1] - a_rect.lo[1] + 1);
  const blasint k = static_cast<blasint>(b_rect.hi[1] - b_rect.lo[1] + 1);
  dgemm(m, n, k, b.ptr(b_rect.lo), leading_dimension(b), c.ptr(c_rect.lo), leading_dimension(c),
        a.ptr(a_rect.lo), leading_dimension(a));
}

/* The final check: taco_validate over `domain` on A's tiles; a wrong entry fails the run. */
template <int DIM>
void validate(Legion::Context ctx, Legion::Runtime* runtime, Legion::TaskID validate_task,
              const Legion::Rect<DIM, Legion::coord_t>& domain, Legion::LogicalPartition tiles,
              Legion::LogicalRegion a, long long n) {
  Legion::IndexTaskLauncher check(validate_task, Legion::Domain(domain),
                                  Legion::UntypedBuffer(&n, sizeof(n)), Legion::ArgumentMap());
  Legion::RegionRequirement req(tiles, 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, a);
  req.add_field(FID_VALS);
  check.add_region_requirement(req);
  Legion::FutureMap results = runtime->execute_index_space(ctx, check);
  long long bad = 0;
  for (Legion::PointInRectIterator<DIM> p(domain); p(); p++)
    bad += results.get_result<long long>(Legion::DomainPoint(*p));
  if (bad != 0) {
    std::printf("taco_validate: %lld entries of A differ from %lld\n", bad, n);
    assertion_failed("taco_validate: A is not B * C");
  }
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

/* The tasks both builds register alike (fill, validate, the three placements), and one BLAS
 * thread per call: Legion's processors are the parallelism (one per core). */
inline void register_common(Legion::TaskID fill, Legion::TaskID validate_task,
                            const Legion::TaskID (&placements)[3]) {
  scipy_openblas_set_num_threads(1);
  leaf<taco_fill_task>(fill, "taco_fill");
  leaf_with_result<long long, taco_validate_task>(validate_task, "taco_validate");
  const char* const names[3] = {"task_1", "task_2", "task_3"};
  for (int m = 0; m < 3; m++) leaf<placement_task>(placements[m], names[m]);
}

}  // namespace distal
}  // namespace apps
}  // namespace mapper_gym

#endif
