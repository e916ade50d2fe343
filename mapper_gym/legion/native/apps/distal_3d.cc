/*
 * The 3-D DISTAL matrix multiplications Johnson (apps.md §4.3), COSMA (§4.5) and Solomonik
 * (§4.4), CPU build, written for mapper-gym from the description of the generated programs.
 * A = B · C with n × n float64 matrices (field "vals"; regions named A, B and C); every point of
 * the compute grid reduces its partial product into A (sum reduction), and a read-only relaunch
 * of task_1 inside the timed window folds the partial sums into A's placement instances.
 *
 * Johnson (g × g × g grid) and COSMA ((gx, gy, gz) grid), task tree as benchmarks/distal.py
 * build_3d publishes it for the CPU build:
 *   untimed: taco_fill A = 0 over (gx, gy, 1), B = 1 over (gx, 1, gz), C = 1 over (1, gy, gz);
 *            placement task_1 (A, WO), task_2 (B, WO), task_3 (C, WO), empty bodies
 *   timed:   task_5 index over (gx, gy, gz), inner: A(i, j) RED+, B(i, k) RO, C(k, j) RO
 *            └─ task_4 index over the 2 row halves, leaf: A(half, j) RED+, B(half, k) RO,
 *               C(k, j) RO (cblas_dgemm)
 *            then task_1 again, RO
 * Solomonik ((r, r, c) grid, r3 chunks per slab), as benchmarks/solomonik.py publishes it:
 *   untimed: fill and placement over (r, r, 1) in an r × r blocking (WO)
 *   timed:   task_5 index over (r, r, c), inner: A(i, j) RED+, B(i, slab l) RO, C(slab l, j) RO
 *            └─ task_4, r3 single launches in sequence, leaf: step s uses chunk
 *               q = (i + j + s) mod r3 of slab l: A(i, j) RED+, B(i, chunk) RO, C(chunk, j) RO
 *            then task_1 again, RO
 * Eleven iterations, the first an untimed warm-up; taco_validate checks A = n at the end.
 *
 * Placement is write-discard with an empty body, as in the original: the filled values survive
 * only where the placement reuses the fill's instance (same memory and layout), otherwise the
 * product is wrong and taco_validate fails the run.
 */
#include "distal.h"

using namespace Legion;

namespace mapper_gym {
namespace apps {
namespace {

using namespace distal;

enum class Algorithm : int { JOHNSON = 0, COSMA = 1, SOLOMONIK = 2 };

Algorithm algorithm = Algorithm::JOHNSON;

enum TaskIDs {
  TOP_LEVEL_TASK = 400,
  TACO_FILL_TASK,
  TACO_VALIDATE_TASK,
  TASK_1,
  TASK_2,
  TASK_3,
  TASK_4,
  TASK_5,
};

/* Colors of the partitions made below each subregion (looked up by color in inner tasks). */
enum PartitionColors : Color { PART_CHUNKS = 21, PART_HALVES = 22, PART_SHARED = 23 };

constexpr int kIterations = 11;  // the first is an untimed warm-up
constexpr ReductionOpID kSum = LEGION_REDOP_SUM_FLOAT64;

struct Config {
  Algorithm algorithm;
  long long n;
  long long gx, gy, gz;  // the compute grid: (g, g, g), (gx, gy, gz) or (r, r, c)
  long long r3;          // Solomonik: chunks per slab
};

struct PointArgs {
  Config config;
  int group;  // Johnson/COSMA: the plan's group of this point's task_4 launch
};

using ReduceAccessor2 =
    ReductionAccessor<SumReduction<double>, true, 2, coord_t,
                      Realm::AffineAccessor<double, 2, coord_t>>;

/* Leaf: A's reduction instance += B · C with cblas_dgemm (the reduction instance starts at the
 * identity, 0). */
void task_4_task(const Task* task, const std::vector<PhysicalRegion>& regions, Context,
                 Runtime* runtime) {
  dgemm_leaf(task, regions, runtime, ReduceAccessor2(regions[0], FID_VALS, kSum));
}

/* Johnson / COSMA inner point: the leaf launch over its two row halves. */
void task_5_halves(const Task* task, Context ctx, Runtime* runtime, const PointArgs& args) {
  const LogicalRegion a = task->regions[0].region;
  const LogicalRegion b = task->regions[1].region;
  const LogicalRegion c = task->regions[2].region;
  IndexTaskLauncher launcher(TASK_4, Domain(Rect<1, coord_t>(0, 1)), UntypedBuffer(),
                             ArgumentMap());
  launcher.map_arg = launch_group(args.group);
  RegionRequirement ra(runtime->get_logical_partition_by_color(ctx, a, PART_HALVES), 0, kSum,
                       LEGION_EXCLUSIVE, a);
  ra.add_field(FID_VALS);
  RegionRequirement rb(runtime->get_logical_partition_by_color(ctx, b, PART_HALVES), 0,
                       LEGION_READ_ONLY, LEGION_EXCLUSIVE, b);
  rb.add_field(FID_VALS);
  // Each half reads the whole C block through its own copy (make_shared_copies).
  RegionRequirement rc(runtime->get_logical_partition_by_color(ctx, c, PART_SHARED), 0,
                       LEGION_READ_ONLY, LEGION_EXCLUSIVE, c);
  rc.add_field(FID_VALS);
  launcher.add_region_requirement(ra);
  launcher.add_region_requirement(rb);
  launcher.add_region_requirement(rc);
  runtime->execute_index_space(ctx, launcher);
}

/* Solomonik inner point (i, j, l): r3 leaves in sequence over the skewed chunks of slab l. */
void task_5_chunks(const Task* task, Context ctx, Runtime* runtime, const Config& config) {
  const long long i = task->index_point[0], j = task->index_point[1];
  const LogicalRegion a = task->regions[0].region;
  const LogicalRegion b = task->regions[1].region;
  const LogicalRegion c = task->regions[2].region;
  const LogicalPartition b_chunks = runtime->get_logical_partition_by_color(ctx, b, PART_CHUNKS);
  const LogicalPartition c_chunks = runtime->get_logical_partition_by_color(ctx, c, PART_CHUNKS);
  const long long linear = i + config.gx * (j + config.gy * task->index_point[2]);
  for (long long s = 0; s < config.r3; s++) {
    const long long q = (i + j + s) % config.r3;
    TaskLauncher launcher(TASK_4, UntypedBuffer());
    const int group = static_cast<int>(linear * config.r3 + s);
    launcher.map_arg = launch_group(group);
    RegionRequirement ra(a, kSum, LEGION_EXCLUSIVE, a);
    ra.add_field(FID_VALS);
    RegionRequirement rb(runtime->get_logical_subregion_by_color(ctx, b_chunks,
                                                                 DomainPoint(Point<1>(q))),
                         LEGION_READ_ONLY, LEGION_EXCLUSIVE, b);
    rb.add_field(FID_VALS);
    RegionRequirement rc(runtime->get_logical_subregion_by_color(ctx, c_chunks,
                                                                 DomainPoint(Point<1>(q))),
                         LEGION_READ_ONLY, LEGION_EXCLUSIVE, c);
    rc.add_field(FID_VALS);
    launcher.add_region_requirement(ra);
    launcher.add_region_requirement(rb);
    launcher.add_region_requirement(rc);
    runtime->execute_task(ctx, launcher);
  }
}

void task_5_task(const Task* task, const std::vector<PhysicalRegion>&, Context ctx,
                 Runtime* runtime) {
  const Config& config = *static_cast<const Config*>(task->args);
  if (config.algorithm == Algorithm::SOLOMONIK) {
    task_5_chunks(task, ctx, runtime, config);
    return;
  }
  // The plan numbers the task_4 launches in program order: one per point, dimension 0 fastest.
  const long long linear =
      task->index_point[0] + config.gx * (task->index_point[1] + config.gy * task->index_point[2]);
  task_5_halves(task, ctx, runtime, PointArgs{config, static_cast<int>(linear)});
}

// -------------------------------------------------------------------------------------------
// Top level

/* The rectangles of one matrix for every point of a launch domain (a 3-D rect). */
using RectOf = Rect2 (*)(const Config&, const Point<3, coord_t>&);

struct Blocks {
  const Config& c;
  // rows/columns cut and the k cut of the placement and compute blocks
  Rect2 a(long long i, long long j) const {
    return rect(block_lo(c.n, c.gx, i), block_lo(c.n, c.gx, i + 1), block_lo(c.n, c.gy, j),
                block_lo(c.n, c.gy, j + 1));
  }
  long long k_parts() const { return c.algorithm == Algorithm::SOLOMONIK ? c.gx : c.gz; }
  Rect2 b(long long i, long long k) const {
    return rect(block_lo(c.n, c.gx, i), block_lo(c.n, c.gx, i + 1), block_lo(c.n, k_parts(), k),
                block_lo(c.n, k_parts(), k + 1));
  }
  Rect2 cc(long long k, long long j) const {
    return rect(block_lo(c.n, k_parts(), k), block_lo(c.n, k_parts(), k + 1),
                block_lo(c.n, c.gy, j), block_lo(c.n, c.gy, j + 1));
  }
  // Solomonik: slab l of the k dimension (c slabs of r3 chunks; chunk boundaries are the
  // models' blocks of n into c·r3)
  coord_t chunk_lo(long long q) const { return block_lo(c.n, c.gz * c.r3, q); }
  Rect2 b_slab(long long i, long long l) const {
    return rect(block_lo(c.n, c.gx, i), block_lo(c.n, c.gx, i + 1), chunk_lo(l * c.r3),
                chunk_lo((l + 1) * c.r3));
  }
  Rect2 c_slab(long long l, long long j) const {
    return rect(chunk_lo(l * c.r3), chunk_lo((l + 1) * c.r3), block_lo(c.n, c.gy, j),
                block_lo(c.n, c.gy, j + 1));
  }
};

using Rect3 = Rect<3, coord_t>;
using Point3 = Point<3, coord_t>;

void top_level_task(const Task*, const std::vector<PhysicalRegion>&, Context ctx,
                    Runtime* runtime) {
  Options options;
  Config config;
  config.algorithm = algorithm;
  config.n = options.integer("n", 1024);
  config.r3 = 1;
  if (algorithm == Algorithm::JOHNSON) {
    config.gx = config.gy = config.gz = options.integer("gdim", 2);
  } else if (algorithm == Algorithm::COSMA) {
    config.gx = options.integer("gx", 2);
    config.gy = options.integer("gy", 1);
    config.gz = options.integer("gz", 1);
  } else {
    config.gx = config.gy = options.integer("rpoc", 2);
    config.gz = options.integer("c", 1);
    config.r3 = options.integer("rpoc3", 2);
  }
  const long long n = config.n;
  if (config.gx < 1 || config.gy < 1 || config.gz < 1 || config.r3 < 1 ||
      n < 2 * std::max({config.gx, config.gy, config.gz * config.r3})) {
    std::fprintf(stderr, "invalid configuration: the grid needs n >= 2 x its largest extent\n");
    std::exit(2);
  }
  const bool solomonik = algorithm == Algorithm::SOLOMONIK;
  const Blocks blocks{config};

  const Matrices created = create_matrices(ctx, runtime, n);
  const IndexSpace square = created.square;
  const LogicalRegion* matrices = created.region;
  const LogicalRegion A = matrices[0], B = matrices[1], C = matrices[2];
  IndexSpace two = runtime->create_index_space(ctx, Domain(Rect<1, coord_t>(0, 1)));

  // Placement domains (the models' launch shapes) and their blocks.
  const long long gx = config.gx, gy = config.gy, gz = config.gz;
  Rect3 place[3];
  if (solomonik) {
    place[0] = place[1] = place[2] = Rect3(Point3(0, 0, 0), Point3(gx - 1, gy - 1, 0));
  } else {
    place[0] = Rect3(Point3(0, 0, 0), Point3(gx - 1, gy - 1, 0));
    place[1] = Rect3(Point3(0, 0, 0), Point3(gx - 1, 0, gz - 1));
    place[2] = Rect3(Point3(0, 0, 0), Point3(0, gy - 1, gz - 1));
  }
  auto placement_block = [&](int m, const Point3& p) -> Rect2 {
    if (solomonik || m == 0)
      return m == 0 ? blocks.a(p[0], p[1]) : (m == 1 ? blocks.b(p[0], p[1]) : blocks.cc(p[0], p[1]));
    return m == 1 ? blocks.b(p[0], p[2]) : blocks.cc(p[2], p[1]);
  };
  LogicalPartition tiles[3];
  for (int m = 0; m < 3; m++) {
    std::map<DomainPoint, Domain> parts;
    for (PointInRectIterator<3> p(place[m]); p(); p++)
      parts[DomainPoint(*p)] = Domain(placement_block(m, *p));
    IndexSpace colors = runtime->create_index_space(ctx, Domain(place[m]));
    tiles[m] = runtime->get_logical_partition(
        ctx, matrices[m],
        partition(ctx, runtime, square, colors, parts, LEGION_DISJOINT_COMPLETE_KIND));
    runtime->attach_name(tiles[m], (std::string("tiles_") + kMatrixNames[m]).c_str());
  }

  // The compute grid's blocks, one subregion per point (aliased across the reduced dimension).
  const Rect3 grid(Point3(0, 0, 0), Point3(gx - 1, gy - 1, gz - 1));
  IndexSpace grid_colors = runtime->create_index_space(ctx, Domain(grid));
  std::map<DomainPoint, Domain> a_parts, b_parts, c_parts;
  for (PointInRectIterator<3> p(grid); p(); p++) {
    a_parts[DomainPoint(*p)] = Domain(blocks.a(p[0], p[1]));
    b_parts[DomainPoint(*p)] =
        Domain(solomonik ? blocks.b_slab(p[0], p[2]) : blocks.b(p[0], p[2]));
    c_parts[DomainPoint(*p)] =
        Domain(solomonik ? blocks.c_slab(p[2], p[1]) : blocks.cc(p[2], p[1]));
  }
  const LogicalPartition a_grid = runtime->get_logical_partition(
      ctx, A, partition(ctx, runtime, square, grid_colors, a_parts, LEGION_ALIASED_KIND));
  const LogicalPartition b_grid = runtime->get_logical_partition(
      ctx, B, partition(ctx, runtime, square, grid_colors, b_parts, LEGION_ALIASED_KIND));
  const LogicalPartition c_grid = runtime->get_logical_partition(
      ctx, C, partition(ctx, runtime, square, grid_colors, c_parts, LEGION_ALIASED_KIND));
  IndexSpace chunk_colors =
      runtime->create_index_space(ctx, Domain(Rect<1, coord_t>(0, config.r3 - 1)));
  for (PointInRectIterator<3> p(grid); p(); p++) {
    const LogicalRegion a = runtime->get_logical_subregion_by_color(ctx, a_grid, DomainPoint(*p));
    const LogicalRegion b = runtime->get_logical_subregion_by_color(ctx, b_grid, DomainPoint(*p));
    const LogicalRegion c = runtime->get_logical_subregion_by_color(ctx, c_grid, DomainPoint(*p));
    if (solomonik) {
      // the r3 chunks of the point's slab, for B (columns) and C (rows)
      std::map<DomainPoint, Domain> b_chunks, c_chunks;
      const Rect2 bs = domain_of(runtime, b), cs = domain_of(runtime, c);
      for (long long q = 0; q < config.r3; q++) {
        const coord_t k0 = blocks.chunk_lo(p[2] * config.r3 + q);
        const coord_t k1 = blocks.chunk_lo(p[2] * config.r3 + q + 1);
        b_chunks[DomainPoint(Point<1>(q))] = Domain(rect(bs.lo[0], bs.hi[0] + 1, k0, k1));
        c_chunks[DomainPoint(Point<1>(q))] = Domain(rect(k0, k1, cs.lo[1], cs.hi[1] + 1));
      }
      partition(ctx, runtime, b.get_index_space(), chunk_colors, b_chunks,
                LEGION_DISJOINT_COMPLETE_KIND, PART_CHUNKS);
      partition(ctx, runtime, c.get_index_space(), chunk_colors, c_chunks,
                LEGION_DISJOINT_COMPLETE_KIND, PART_CHUNKS);
      continue;
    }
    make_halves(ctx, runtime, a, two, PART_HALVES);
    make_halves(ctx, runtime, b, two, PART_HALVES);
    make_shared_copies(ctx, runtime, c, two, PART_SHARED);
  }

  auto tile_launch = [&](TaskID task, int m, PrivilegeMode mode, UntypedBuffer arg, int group) {
    IndexTaskLauncher launcher(task, Domain(place[m]), arg, ArgumentMap());
    launcher.map_arg = launch_group(group);
    RegionRequirement req(tiles[m], 0, mode, LEGION_EXCLUSIVE, matrices[m]);
    req.add_field(FID_VALS);
    launcher.add_region_requirement(req);
    return runtime->execute_index_space(ctx, launcher);
  };

  Timer timer;
  const double zero = 0.0, one = 1.0;
  for (int iteration = 0; iteration < kIterations; iteration++) {
    // Untimed: fill (taco_fill launches 0, 1, 2 of the plan) and place (task_1 group 0).
    tile_launch(TACO_FILL_TASK, 0, LEGION_WRITE_DISCARD, UntypedBuffer(&zero, sizeof(zero)), 0);
    tile_launch(TACO_FILL_TASK, 1, LEGION_WRITE_DISCARD, UntypedBuffer(&one, sizeof(one)), 1);
    tile_launch(TACO_FILL_TASK, 2, LEGION_WRITE_DISCARD, UntypedBuffer(&one, sizeof(one)), 2);
    FutureMap placed[3];
    const TaskID placement[3] = {TASK_1, TASK_2, TASK_3};
    for (int m = 0; m < 3; m++)
      placed[m] = tile_launch(placement[m], m, LEGION_WRITE_DISCARD, UntypedBuffer(), 0);
    for (FutureMap& f : placed) f.wait_all_results();

    // Timed: the compute grid, then the RO relaunch of task_1 (group 1) that folds the partial
    // sums into A's placement instances; both waited for.
    const int64_t start = now_ns();
    IndexTaskLauncher launcher(TASK_5, Domain(grid), UntypedBuffer(&config, sizeof(config)),
                               ArgumentMap());
    RegionRequirement ra(a_grid, 0, kSum, LEGION_EXCLUSIVE, A);
    ra.add_field(FID_VALS);
    RegionRequirement rb(b_grid, 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, B);
    rb.add_field(FID_VALS);
    RegionRequirement rc(c_grid, 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, C);
    rc.add_field(FID_VALS);
    launcher.add_region_requirement(ra);
    launcher.add_region_requirement(rb);
    launcher.add_region_requirement(rc);
    runtime->execute_index_space(ctx, launcher);
    tile_launch(TASK_1, 0, LEGION_READ_ONLY, UntypedBuffer(), 1).wait_all_results();
    runtime->issue_execution_fence(ctx).wait();
    const int64_t stop = now_ns();
    if (iteration > 0) timer.record(start, stop);
  }
  timer.report(n);

  // Validation: every entry of A is n.
  validate(ctx, runtime, TACO_VALIDATE_TASK, place[0], tiles[0], A, n);
}

void register_distal_3d(Algorithm which) {
  algorithm = which;
  top_level<top_level_task>(TOP_LEVEL_TASK, "top_level");
  register_common(TACO_FILL_TASK, TACO_VALIDATE_TASK, {TASK_1, TASK_2, TASK_3});
  leaf<task_4_task>(TASK_4, "task_4");
  distal::inner<task_5_task>(TASK_5, "task_5");
}

}  // namespace

void register_johnson() { register_distal_3d(Algorithm::JOHNSON); }
void register_cosma() { register_distal_3d(Algorithm::COSMA); }
void register_solomonik() { register_distal_3d(Algorithm::SOLOMONIK); }

}  // namespace apps
}  // namespace mapper_gym
