/*
 * The 2-D DISTAL matrix multiplications Cannon, SUMMA and PUMMA (apps.md §4.1, §4.2), CPU build,
 * written for mapper-gym from the description of the generated DISTAL programs. One skeleton
 * serves the three algorithms; they differ only in which k block grid point (i, j) multiplies at
 * outer step s (Cannon (i + j + s) mod gx, SUMMA s, PUMMA (i + s) mod gx).
 *
 * A = B · C with n × n float64 matrices (one field "vals"; the regions are named A, B and C).
 * Task tree (names and requirement lists as benchmarks/distal.py build_2d_cpu publishes them):
 *
 *   top_level
 *   ├─ untimed: taco_fill (WO) of A = 0, B = C = 1 over the (gx, gy) tiles, then the placement
 *   │           launches task_1 / task_2 / task_3 (RO, empty bodies) over the same tiles
 *   └─ timed:   task_6 index over (gx, gy), inner: A tile RW, B row panel RO, C column panel RO
 *               └─ task_5, one single launch per outer step s, inner:
 *                     A tile RW, B(i, k block) RO, C(k block, j) RO
 *                  └─ task_4 index over the 2 row halves, leaf (cblas_dgemm):
 *                        A half RW, B(half, k block) RO, C(k block, j) RO
 *   then taco_validate (RO) checks that every entry of A equals n.
 *
 * Ten iterations, all timed; each re-fills and re-places the data. The host clock around the
 * compute launch (which is waited for) gives "Execution time: %lld ms." per iteration and the
 * final "On %ld nodes achieved GFLOPS per node: %lf." line.
 *
 * The leaf calls OpenBLAS's cblas_dgemm in row-major mode with every leading dimension taken
 * from the instance's stride of dimension 0, as the original does. A Fortran-order instance
 * gives a leading dimension of 1: OpenBLAS rejects the call (it prints its own xerbla line), and
 * the program then fails the run with "DGEMM parameter number %d had an illegal value", the
 * number OpenBLAS reported.
 *
 * Variants: the original CPU build registers OpenMP variants; this Legion has no OpenMP
 * processors, so every task has one CPU (LOC_PROC) variant (see benchmarks/distal.py).
 */
#include "distal.h"

using namespace Legion;

namespace mapper_gym {
namespace apps {
namespace {

using namespace distal;

enum class Algorithm : int { CANNON = 0, SUMMA = 1, PUMMA = 2 };

Algorithm algorithm = Algorithm::CANNON;

enum TaskIDs {
  TOP_LEVEL_TASK = 300,
  TACO_FILL_TASK,
  TACO_VALIDATE_TASK,
  TASK_1,
  TASK_2,
  TASK_3,
  TASK_4,
  TASK_5,
  TASK_6,
};

/* Colors of the partitions made below each subregion (looked up by color in inner tasks). */
enum PartitionColors : Color { PART_K_BLOCKS = 11, PART_HALVES = 12, PART_SHARED = 13 };

constexpr int kIterations = 10;

struct Config {
  long long n, gx, gy;
  Algorithm algorithm;
};

struct StepArgs {
  Config config;
  long long i, j, s;
  int group;  // launch group of task_5 and of its task_4 launch in the mapping plan
};

long long k_block(const Config& c, long long i, long long j, long long s) {
  switch (c.algorithm) {
    case Algorithm::CANNON:
      return (i + j + s) % c.gx;
    case Algorithm::SUMMA:
      return s;
    default:
      return (i + s) % c.gx;
  }
}

// -------------------------------------------------------------------------------------------
// Leaf tasks

/* A_half += B_half · C_block with cblas_dgemm, row-major, no transposes. */
void task_4_task(const Task* task, const std::vector<PhysicalRegion>& regions, Context,
                 Runtime* runtime) {
  dgemm_leaf(task, regions, runtime, Affine2<LEGION_READ_WRITE>(regions[0], FID_VALS));
}

// -------------------------------------------------------------------------------------------
// Inner tasks

/* One outer step of one grid point: the leaf launch over the two row halves. */
void task_5_task(const Task* task, const std::vector<PhysicalRegion>&, Context ctx,
                 Runtime* runtime) {
  const StepArgs& args = *static_cast<const StepArgs*>(task->args);
  const LogicalRegion a_tile = task->regions[0].region;
  const LogicalRegion b_block = task->regions[1].region;
  const LogicalRegion c_block = task->regions[2].region;
  const LogicalPartition a_halves =
      runtime->get_logical_partition_by_color(ctx, a_tile, PART_HALVES);
  const LogicalPartition b_halves =
      runtime->get_logical_partition_by_color(ctx, b_block, PART_HALVES);
  // Both halves read the whole C block, each through its own copy (make_shared_copies).
  const LogicalPartition c_shared =
      runtime->get_logical_partition_by_color(ctx, c_block, PART_SHARED);
  IndexTaskLauncher launcher(TASK_4, Domain(Rect<1, coord_t>(0, 1)), UntypedBuffer(),
                             ArgumentMap());
  launcher.map_arg = launch_group(args.group);
  RegionRequirement a(a_halves, 0, LEGION_READ_WRITE, LEGION_EXCLUSIVE, a_tile);
  a.add_field(FID_VALS);
  RegionRequirement b(b_halves, 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, b_block);
  b.add_field(FID_VALS);
  RegionRequirement c(c_shared, 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, c_block);
  c.add_field(FID_VALS);
  launcher.add_region_requirement(a);
  launcher.add_region_requirement(b);
  launcher.add_region_requirement(c);
  runtime->execute_index_space(ctx, launcher);
}

/* One grid point (i, j): gx outer steps in sequence, each a task_5 on the step's k block. */
void task_6_task(const Task* task, const std::vector<PhysicalRegion>&, Context ctx,
                 Runtime* runtime) {
  const Config& config = *static_cast<const Config*>(task->args);
  const long long i = task->index_point[0], j = task->index_point[1];
  const LogicalRegion a_tile = task->regions[0].region;
  const LogicalRegion b_panel = task->regions[1].region;
  const LogicalRegion c_panel = task->regions[2].region;
  const LogicalPartition b_blocks =
      runtime->get_logical_partition_by_color(ctx, b_panel, PART_K_BLOCKS);
  const LogicalPartition c_blocks =
      runtime->get_logical_partition_by_color(ctx, c_panel, PART_K_BLOCKS);
  for (long long s = 0; s < config.gx; s++) {
    const long long kb = k_block(config, i, j, s);
    // The plan numbers task_5 launches in program order: points with dimension 0 fastest.
    StepArgs args{config, i, j, s, static_cast<int>((i + config.gx * j) * config.gx + s)};
    TaskLauncher launcher(TASK_5, UntypedBuffer(&args, sizeof(args)));
    launcher.map_arg = launch_group(args.group);
    const LogicalRegion b_block =
        runtime->get_logical_subregion_by_color(ctx, b_blocks, DomainPoint(Point<1>(kb)));
    const LogicalRegion c_block =
        runtime->get_logical_subregion_by_color(ctx, c_blocks, DomainPoint(Point<1>(kb)));
    RegionRequirement a(a_tile, LEGION_READ_WRITE, LEGION_EXCLUSIVE, a_tile);
    a.add_field(FID_VALS);
    RegionRequirement b(b_block, LEGION_READ_ONLY, LEGION_EXCLUSIVE, b_panel);
    b.add_field(FID_VALS);
    RegionRequirement c(c_block, LEGION_READ_ONLY, LEGION_EXCLUSIVE, c_panel);
    c.add_field(FID_VALS);
    launcher.add_region_requirement(a);
    launcher.add_region_requirement(b);
    launcher.add_region_requirement(c);
    runtime->execute_task(ctx, launcher);
  }
}

// -------------------------------------------------------------------------------------------
// Top level

void top_level_task(const Task*, const std::vector<PhysicalRegion>&, Context ctx,
                    Runtime* runtime) {
  Options options;
  Config config;
  config.n = options.integer("n", 1024);
  config.gx = options.integer("gx", 1);
  config.gy = options.integer("gy", 1);
  config.algorithm = algorithm;
  if (config.gx < 1 || config.gy < 1 || config.n < 2 * std::max(config.gx, config.gy)) {
    std::fprintf(stderr, "invalid configuration: need gx, gy >= 1 and n >= 2 max(gx, gy)\n");
    std::exit(2);
  }
  const long long n = config.n, gx = config.gx, gy = config.gy;

  const Matrices created = create_matrices(ctx, runtime, n);
  const IndexSpace square = created.square;
  const LogicalRegion* matrices = created.region;
  const LogicalRegion A = matrices[0], B = matrices[1], C = matrices[2];

  const Rect<2, coord_t> grid_rect(Point2(0, 0), Point2(gx - 1, gy - 1));
  IndexSpace grid = runtime->create_index_space(ctx, Domain(grid_rect));
  IndexSpace k_colors = runtime->create_index_space(ctx, Domain(Rect<1, coord_t>(0, gx - 1)));
  IndexSpace two = runtime->create_index_space(ctx, Domain(Rect<1, coord_t>(0, 1)));

  // Tiles (i, j): rows block i of gx, columns block j of gy; the same cut for all three.
  std::map<DomainPoint, Domain> tiles, row_panels, column_panels;
  for (PointInRectIterator<2> p(grid_rect); p(); p++) {
    const coord_t r0 = block_lo(n, gx, p[0]), r1 = block_lo(n, gx, p[0] + 1);
    const coord_t c0 = block_lo(n, gy, p[1]), c1 = block_lo(n, gy, p[1] + 1);
    tiles[DomainPoint(*p)] = Domain(rect(r0, r1, c0, c1));
    row_panels[DomainPoint(*p)] = Domain(rect(r0, r1, 0, n));
    column_panels[DomainPoint(*p)] = Domain(rect(0, n, c0, c1));
  }
  LogicalPartition tile_parts[3];
  for (int m = 0; m < 3; m++) {
    IndexPartition ip = partition(ctx, runtime, square, grid, tiles,
                                  LEGION_DISJOINT_COMPLETE_KIND);
    tile_parts[m] = runtime->get_logical_partition(ctx, matrices[m], ip);
    runtime->attach_name(tile_parts[m], (std::string("tiles_") + kMatrixNames[m]).c_str());
  }
  // Row panels of B and column panels of C, one per grid point (aliased: the points of a row
  // share their panel of B), each cut into the gx k blocks; B's blocks into row halves too.
  const LogicalPartition b_panels = runtime->get_logical_partition(
      ctx, B, partition(ctx, runtime, square, grid, row_panels, LEGION_ALIASED_COMPLETE_KIND));
  const LogicalPartition c_panels = runtime->get_logical_partition(
      ctx, C, partition(ctx, runtime, square, grid, column_panels, LEGION_ALIASED_COMPLETE_KIND));
  for (PointInRectIterator<2> p(grid_rect); p(); p++) {
    const LogicalRegion b_panel =
        runtime->get_logical_subregion_by_color(ctx, b_panels, DomainPoint(*p));
    const LogicalRegion c_panel =
        runtime->get_logical_subregion_by_color(ctx, c_panels, DomainPoint(*p));
    const coord_t r0 = block_lo(n, gx, p[0]), r1 = block_lo(n, gx, p[0] + 1);
    const coord_t c0 = block_lo(n, gy, p[1]), c1 = block_lo(n, gy, p[1] + 1);
    std::map<DomainPoint, Domain> b_blocks, c_blocks;
    for (long long kb = 0; kb < gx; kb++) {
      const coord_t k0 = block_lo(n, gx, kb), k1 = block_lo(n, gx, kb + 1);
      b_blocks[DomainPoint(Point<1>(kb))] = Domain(rect(r0, r1, k0, k1));
      c_blocks[DomainPoint(Point<1>(kb))] = Domain(rect(k0, k1, c0, c1));
    }
    partition(ctx, runtime, b_panel.get_index_space(), k_colors, b_blocks,
              LEGION_DISJOINT_COMPLETE_KIND, PART_K_BLOCKS);
    partition(ctx, runtime, c_panel.get_index_space(), k_colors, c_blocks,
              LEGION_DISJOINT_COMPLETE_KIND, PART_K_BLOCKS);
    const LogicalPartition b_blocks_lp =
        runtime->get_logical_partition_by_color(ctx, b_panel, PART_K_BLOCKS);
    const LogicalPartition c_blocks_lp =
        runtime->get_logical_partition_by_color(ctx, c_panel, PART_K_BLOCKS);
    for (long long kb = 0; kb < gx; kb++) {
      const DomainPoint color{Point<1>(kb)};
      make_halves(ctx, runtime, runtime->get_logical_subregion_by_color(ctx, b_blocks_lp, color),
                  two, PART_HALVES);
      make_shared_copies(ctx, runtime,
                         runtime->get_logical_subregion_by_color(ctx, c_blocks_lp, color), two,
                         PART_SHARED);
    }
    make_halves(ctx, runtime,
                runtime->get_logical_subregion_by_color(ctx, tile_parts[0], DomainPoint(*p)),
                two, PART_HALVES);
  }

  const Domain launch_domain(grid_rect);
  auto tile_launch = [&](TaskID task, int m, PrivilegeMode mode, UntypedBuffer arg, int group) {
    IndexTaskLauncher launcher(task, launch_domain, arg, ArgumentMap());
    launcher.map_arg = launch_group(group);
    RegionRequirement req(tile_parts[m], 0, mode, LEGION_EXCLUSIVE, matrices[m]);
    req.add_field(FID_VALS);
    launcher.add_region_requirement(req);
    return runtime->execute_index_space(ctx, launcher);
  };

  Timer timer;
  const double zero = 0.0, one = 1.0;
  for (int iteration = 0; iteration < kIterations; iteration++) {
    // Untimed: fill (taco_fill launches 0, 1, 2 of the plan) and place the blocks.
    tile_launch(TACO_FILL_TASK, 0, LEGION_WRITE_DISCARD, UntypedBuffer(&zero, sizeof(zero)), 0);
    tile_launch(TACO_FILL_TASK, 1, LEGION_WRITE_DISCARD, UntypedBuffer(&one, sizeof(one)), 1);
    tile_launch(TACO_FILL_TASK, 2, LEGION_WRITE_DISCARD, UntypedBuffer(&one, sizeof(one)), 2);
    FutureMap placed[3];
    const TaskID placement[3] = {TASK_1, TASK_2, TASK_3};
    for (int m = 0; m < 3; m++)
      placed[m] = tile_launch(placement[m], m, LEGION_READ_ONLY, UntypedBuffer(), 0);
    for (FutureMap& f : placed) f.wait_all_results();

    // Timed: the compute tree, waited for.
    const int64_t start = now_ns();
    IndexTaskLauncher launcher(TASK_6, launch_domain, UntypedBuffer(&config, sizeof(config)),
                               ArgumentMap());
    RegionRequirement a(tile_parts[0], 0, LEGION_READ_WRITE, LEGION_EXCLUSIVE, A);
    a.add_field(FID_VALS);
    RegionRequirement b(b_panels, 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, B);
    b.add_field(FID_VALS);
    RegionRequirement c(c_panels, 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, C);
    c.add_field(FID_VALS);
    launcher.add_region_requirement(a);
    launcher.add_region_requirement(b);
    launcher.add_region_requirement(c);
    runtime->execute_index_space(ctx, launcher).wait_all_results();
    runtime->issue_execution_fence(ctx).wait();
    timer.record(start, now_ns());
  }
  timer.report(n);

  // Validation: every entry of A is n.
  validate(ctx, runtime, TACO_VALIDATE_TASK, grid_rect, tile_parts[0], A, n);
}

void register_distal_2d(Algorithm which) {
  algorithm = which;
  top_level<top_level_task>(TOP_LEVEL_TASK, "top_level");
  register_common(TACO_FILL_TASK, TACO_VALIDATE_TASK, {TASK_1, TASK_2, TASK_3});
  leaf<task_4_task>(TASK_4, "task_4");
  distal::inner<task_5_task>(TASK_5, "task_5");
  distal::inner<task_6_task>(TASK_6, "task_6");
}

}  // namespace

void register_cannon() { register_distal_2d(Algorithm::CANNON); }
void register_summa() { register_distal_2d(Algorithm::SUMMA); }
void register_pumma() { register_distal_2d(Algorithm::PUMMA); }

}  // namespace apps
}  // namespace mapper_gym
