/*
 * Stencil (apps.md §2): a radius-2 star stencil in double precision on an nx × ny grid cut into
 * ntx × nty tiles, written for mapper-gym from the description of the Regent program
 * (stencil_fast.rg, after the Parallel Research Kernels).
 *
 * Data. `points` holds every tile with its own halo ring of width 2, so it is
 * (nx-4 + 4·ntx) × (ny-4 + 4·nty) points with fields input and output. Halo values travel
 * only through four strip regions: xm and xp are (2·ntx) × (ny-4), ym and yp are
 * (nx-4) × (2·nty), one 2-wide slot per tile. Tile i's slot of xm holds its last two interior
 * columns (what its +x neighbour puts into its -x halo), xp its first two columns, ym its last
 * two rows, yp its first two rows. `pxm_in[i]` is the xm slot of i's -x neighbour (empty at the
 * border), and so on.
 *
 * Tasks (names and region requirements as benchmarks/stencil.py publishes them):
 *   stencil   0 private RW {input, output}; 1 interior (bounds); 2-5 p{xm,xp,ym,yp}_in RO
 *             {input}; 6 p_times RW — copies the in-strips into the tile's halo, then adds the
 *             weighted 8-neighbour differences of input to output on the interior
 *   increment 0 private RW {input}; 1 exterior (bounds); 2-5 p*_out RW {input}; 6 p_times RW
 *             — input += 1 on the tile minus its inner halo, then writes its edges to its slots
 *   check, begin_init, get_init_start/get_init_stop/get_start/get_stop, print_time,
 *   read_config, main
 *
 * With a constant initial field the weighted differences are exactly zero, so at the end
 * input = init + steps and output = init everywhere (the check of the original program).
 *
 * The CPU kernels require SOA, Fortran order (x fastest) on the private instance, like the
 * hand-written C kernel of the original CPU build: otherwise the run aborts with
 * "Assertion failed: stride does not match expected value." (apps.md §2.9, dsl.md §9.5).
 */
#include <algorithm>
#include <cstdio>
#include <vector>

#include "common.h"

using namespace Legion;

namespace mapper_gym {
namespace apps {
namespace {

enum TaskIDs {
  MAIN_TASK = 100,
  READ_CONFIG_TASK,
  BEGIN_INIT_TASK,
  STENCIL_TASK,
  INCREMENT_TASK,
  CHECK_TASK,
  GET_INIT_START_TASK,
  GET_INIT_STOP_TASK,
  GET_START_TASK,
  GET_STOP_TASK,
  PRINT_TIME_TASK,
};

enum FieldIDs {
  FID_INPUT = 1,
  FID_OUTPUT = 2,
  FID_INIT_START = 10,
  FID_INIT_STOP = 11,
  FID_START = 12,
  FID_STOP = 13,
};

constexpr int kRadius = 2;

struct Config {
  long long nx, ny, ntx, nty, tsteps, tprune;
  double init;
  // The CPU kernels' layout assertions (on by default; -layout_checks 0 models a build
  // without them, RunConfig.layout_checks).
  bool layout_checks;
};

struct StepArgs {
  Config config;
  long long step;
};

struct CheckResult {
  long long bad_input;
  long long bad_output;
};

using Rect2 = Rect<2, coord_t>;
template <PrivilegeMode P>
using Affine2 = FieldAccessor<P, double, 2, coord_t, Realm::AffineAccessor<double, 2, coord_t>>;
using Point2 = Point<2, coord_t>;

Rect2 domain_of(Runtime* runtime, const RegionRequirement& req) {
  return Rect2(runtime->get_index_space_domain(req.region.get_index_space()));
}

/* The layout demand of the CPU kernels: x stride of 8 bytes and equal row strides. */
template <typename A, typename B>
void check_layout(const A& input, const B& output) {
  if (input.accessor.strides[0] != sizeof(double) || output.accessor.strides[0] != sizeof(double))
    assertion_failed("stride does not match expected value.");
  if (input.accessor.strides[1] != output.accessor.strides[1])
    assertion_failed("strides do not match.");
}

template <typename A>
void check_layout(const A& input) {
  if (input.accessor.strides[0] != sizeof(double))
    assertion_failed("stride does not match expected value.");
}

// -------------------------------------------------------------------------------------------

Config read_config_task(const Task*, const std::vector<PhysicalRegion>&, Context, Runtime*) {
  Options options;
  Config c;
  c.nx = options.integer("nx", 12);
  c.ny = options.integer("ny", 12);
  c.ntx = options.integer("ntx", 4);
  c.nty = options.integer("nty", 4);
  c.tsteps = options.integer("tsteps", 20);
  c.tprune = options.integer("tprune", 5);
  c.init = static_cast<double>(options.integer("init", 1000));
  c.layout_checks = options.integer("layout_checks", 1) != 0;
  if (c.ntx < 1 || c.nty < 1 || c.tsteps < 1 || c.tprune < 0 || (c.nx - 4) < 2 * c.ntx ||
      (c.ny - 4) < 2 * c.nty) {
    std::fprintf(stderr, "stencil: invalid configuration (every tile needs an interior of at "
                         "least 2 x 2 points)\n");
    std::exit(2);
  }
  return c;
}

void begin_init_task(const Task*, const std::vector<PhysicalRegion>& regions, Context,
                     Runtime*) {
  const int64_t now = now_ns();
  const FieldAccessor<LEGION_WRITE_DISCARD, int64_t, 1, coord_t> init_start(regions[0],
                                                                           FID_INIT_START);
  const FieldAccessor<LEGION_WRITE_DISCARD, int64_t, 1, coord_t> init_stop(regions[0],
                                                                          FID_INIT_STOP);
  const FieldAccessor<LEGION_WRITE_DISCARD, int64_t, 1, coord_t> start(regions[0], FID_START);
  const FieldAccessor<LEGION_WRITE_DISCARD, int64_t, 1, coord_t> stop(regions[0], FID_STOP);
  for (PointInRectIterator<1> p(regions[0].get_bounds<1, coord_t>().bounds); p(); p++) {
    init_start[*p] = now;
    init_stop[*p] = now;
    start[*p] = now;
    stop[*p] = now;
  }
}

void stencil_task(const Task* task, const std::vector<PhysicalRegion>& regions, Context ctx,
                  Runtime* runtime) {
  const int64_t started = now_ns();
  const StepArgs& args = *static_cast<const StepArgs*>(task->args);
  const Rect2 tile = domain_of(runtime, task->regions[0]);
  const Rect2 interior = domain_of(runtime, task->regions[1]);
  const Affine2<LEGION_READ_WRITE> input(regions[0], FID_INPUT);
  const Affine2<LEGION_READ_WRITE> output(regions[0], FID_OUTPUT);
  if (args.config.layout_checks) check_layout(input, output);

  // Halo copy-in from the four neighbours' strips.
  for (int side = 0; side < 4; side++) {
    const Rect2 strip = domain_of(runtime, task->regions[2 + side]);
    if (strip.empty()) continue;
    const Affine2<LEGION_READ_ONLY> from(regions[2 + side], FID_INPUT);
    for (PointInRectIterator<2> s(strip); s(); s++) {
      Point2 t;
      switch (side) {
        case 0:  // xm_in: the -x neighbour's last columns into the -x halo
          t = Point2(tile.lo[0] + (s[0] - strip.lo[0]), s[1] + interior.lo[1] - strip.lo[1]);
          break;
        case 1:  // xp_in: the +x neighbour's first columns into the +x halo
          t = Point2(tile.hi[0] - 1 + (s[0] - strip.lo[0]), s[1] + interior.lo[1] - strip.lo[1]);
          break;
        case 2:  // ym_in
          t = Point2(s[0] + interior.lo[0] - strip.lo[0], tile.lo[1] + (s[1] - strip.lo[1]));
          break;
        default:  // yp_in
          t = Point2(s[0] + interior.lo[0] - strip.lo[0], tile.hi[1] - 1 + (s[1] - strip.lo[1]));
          break;
      }
      *input.ptr(t) = from[*s];
    }
  }

  // output += sum over k = 1, 2 of w_k (in[+k] - in[-k]) along x and y, w_k = 1 / (2 k R).
  // Strides come from the instance (in elements); with the layout checks on, x is contiguous.
  const double w1 = 1.0 / (2.0 * 1 * kRadius), w2 = 1.0 / (2.0 * 2 * kRadius);
  const coord_t ix = input.accessor.strides[0] / static_cast<coord_t>(sizeof(double));
  const coord_t iy = input.accessor.strides[1] / static_cast<coord_t>(sizeof(double));
  const coord_t ox = output.accessor.strides[0] / static_cast<coord_t>(sizeof(double));
  const coord_t width = interior.hi[0] - interior.lo[0] + 1;
  for (coord_t y = interior.lo[1]; y <= interior.hi[1]; y++) {
    const double* in = input.ptr(Point2(interior.lo[0], y));
    double* out = output.ptr(Point2(interior.lo[0], y));
    for (coord_t x = 0; x < width; x++) {
      const double* c = in + x * ix;
      out[x * ox] += w1 * (c[ix] - c[-ix]) + w2 * (c[2 * ix] - c[-2 * ix]) +
                     w1 * (c[iy] - c[-iy]) + w2 * (c[2 * iy] - c[-2 * iy]);
    }
  }

  if (args.step == args.config.tprune) {
    const FieldAccessor<LEGION_READ_WRITE, int64_t, 1, coord_t> start(regions[6], FID_START);
    for (PointInRectIterator<1> p(regions[6].get_bounds<1, coord_t>().bounds); p(); p++)
      start[*p] = started;
  }
  (void)ctx;
}

void increment_task(const Task* task, const std::vector<PhysicalRegion>& regions, Context,
                    Runtime* runtime) {
  const StepArgs& args = *static_cast<const StepArgs*>(task->args);
  const Rect2 tile = domain_of(runtime, task->regions[0]);
  const Rect2 exterior = domain_of(runtime, task->regions[1]);
  const Rect2 interior(tile.lo + Point2(kRadius, kRadius), tile.hi - Point2(kRadius, kRadius));
  const Affine2<LEGION_READ_WRITE> input(regions[0], FID_INPUT);
  if (args.config.layout_checks) check_layout(input);

  const coord_t width = exterior.hi[0] - exterior.lo[0] + 1;
  const coord_t ix = input.accessor.strides[0] / static_cast<coord_t>(sizeof(double));
  for (coord_t y = exterior.lo[1]; y <= exterior.hi[1]; y++) {
    double* in = input.ptr(Point2(exterior.lo[0], y));
    for (coord_t x = 0; x < width; x++) in[x * ix] += 1.0;
  }

  // The tile's edges into its own slots of the four strip regions.
  for (int side = 0; side < 4; side++) {
    const Rect2 strip = domain_of(runtime, task->regions[2 + side]);
    if (strip.empty()) continue;
    const Affine2<LEGION_READ_WRITE> to(regions[2 + side], FID_INPUT);
    for (PointInRectIterator<2> s(strip); s(); s++) {
      Point2 t;
      switch (side) {
        case 0:  // xm_out: last two interior columns
          t = Point2(interior.hi[0] - 1 + (s[0] - strip.lo[0]),
                     s[1] + interior.lo[1] - strip.lo[1]);
          break;
        case 1:  // xp_out: first two interior columns
          t = Point2(interior.lo[0] + (s[0] - strip.lo[0]), s[1] + interior.lo[1] - strip.lo[1]);
          break;
        case 2:  // ym_out: last two interior rows
          t = Point2(s[0] + interior.lo[0] - strip.lo[0],
                     interior.hi[1] - 1 + (s[1] - strip.lo[1]));
          break;
        default:  // yp_out: first two interior rows
          t = Point2(s[0] + interior.lo[0] - strip.lo[0], interior.lo[1] + (s[1] - strip.lo[1]));
          break;
      }
      *to.ptr(*s) = *input.ptr(t);
    }
  }

  const int64_t finished = now_ns();
  const long long last = args.config.tsteps + args.config.tprune - 1;
  if (args.step == 0 || args.step == last) {
    const FieldAccessor<LEGION_READ_WRITE, int64_t, 1, coord_t> init_stop(regions[6],
                                                                         FID_INIT_STOP);
    const FieldAccessor<LEGION_READ_WRITE, int64_t, 1, coord_t> stop(regions[6], FID_STOP);
    for (PointInRectIterator<1> p(regions[6].get_bounds<1, coord_t>().bounds); p(); p++) {
      if (args.step == 0) init_stop[*p] = finished;
      if (args.step == last) stop[*p] = finished;
    }
  }
}

CheckResult check_task(const Task* task, const std::vector<PhysicalRegion>& regions, Context,
                       Runtime* runtime) {
  const Config& config = *static_cast<const Config*>(task->args);
  const Rect2 interior = domain_of(runtime, task->regions[1]);
  const FieldAccessor<LEGION_READ_ONLY, double, 2, coord_t> input(regions[0], FID_INPUT);
  const FieldAccessor<LEGION_READ_ONLY, double, 2, coord_t> output(regions[0], FID_OUTPUT);
  const double expect_in = config.init + config.tsteps + 2 * config.tprune;
  const double expect_out = config.init;
  CheckResult result{0, 0};
  for (PointInRectIterator<2> p(interior); p(); p++) {
    const double in = input[*p], out = output[*p];
    if (in != expect_in) {
      if (result.bad_input++ < 10)
        std::printf("input (%lld,%lld): %.3f should be %.0f\n", (long long)p[0], (long long)p[1],
                    in, expect_in);
    }
    if (out != expect_out) {
      if (result.bad_output++ < 10)
        std::printf("output (%lld,%lld): %.3f should be %.0f\n", (long long)p[0],
                    (long long)p[1], out, expect_out);
    }
  }
  std::fflush(stdout);
  return result;
}

template <FieldIDs FID>
int64_t get_time_task(const Task*, const std::vector<PhysicalRegion>& regions, Context,
                      Runtime*) {
  const FieldAccessor<LEGION_READ_ONLY, int64_t, 1, coord_t> field(regions[0], FID);
  return field[regions[0].get_bounds<1, coord_t>().bounds.lo];
}

void print_time_task(const Task* task, const std::vector<PhysicalRegion>&, Context, Runtime*) {
  if (task->index_point[0] != 0) return;  // only tile 0 prints
  const int64_t init_start = task->futures[0].get_result<int64_t>();
  const int64_t init_stop = task->futures[1].get_result<int64_t>();
  const int64_t start = task->futures[2].get_result<int64_t>();
  const int64_t stop = task->futures[3].get_result<int64_t>();
  const double init_time = (init_stop - init_start) * 1e-9;
  const double elapsed = (stop - start) * 1e-9;
  std::printf("INIT TIME = %7.3f s\n", init_time);
  std::printf("ELAPSED TIME = %7.3f s\n", elapsed);
  std::fflush(stdout);
  report_timing(init_time, elapsed, start, stop);
}

// -------------------------------------------------------------------------------------------

struct Layout {
  long long nxi, nyi, ntx, nty;
  long long xb(long long i) const { return i * nxi / ntx; }
  long long yb(long long j) const { return j * nyi / nty; }
  long long px(long long i) const { return xb(i) + 4 * i; }
  long long py(long long j) const { return yb(j) + 4 * j; }
  Rect2 tile(long long ix, long long iy) const {
    return Rect2(Point2(px(ix), py(iy)), Point2(px(ix + 1) - 1, py(iy + 1) - 1));
  }
};

Rect2 empty_rect() { return Rect2(Point2(0, 0), Point2(-1, -1)); }

void main_task(const Task*, const std::vector<PhysicalRegion>&, Context ctx, Runtime* runtime) {
  const Config config =
      runtime->execute_task(ctx, TaskLauncher(READ_CONFIG_TASK, UntypedBuffer()))
          .get_result<Config>();
  const Layout L{config.nx - 4, config.ny - 4, config.ntx, config.nty};
  const long long tiles = config.ntx * config.nty;

  FieldSpace fs = runtime->create_field_space(ctx);
  {
    FieldAllocator allocator = runtime->create_field_allocator(ctx, fs);
    allocator.allocate_field(sizeof(double), FID_INPUT);
    allocator.allocate_field(sizeof(double), FID_OUTPUT);
    runtime->attach_name(fs, FID_INPUT, "input");
    runtime->attach_name(fs, FID_OUTPUT, "output");
  }
  FieldSpace times_fs = runtime->create_field_space(ctx);
  {
    FieldAllocator allocator = runtime->create_field_allocator(ctx, times_fs);
    const FieldIDs ids[] = {FID_INIT_START, FID_INIT_STOP, FID_START, FID_STOP};
    const char* names[] = {"init_start", "init_stop", "start", "stop"};
    for (int k = 0; k < 4; k++) {
      allocator.allocate_field(sizeof(int64_t), ids[k]);
      runtime->attach_name(times_fs, ids[k], names[k]);
    }
  }

  auto make_region = [&](Rect2 bounds, FieldSpace space, const char* name) {
    IndexSpace is = runtime->create_index_space(ctx, Domain(bounds));
    LogicalRegion lr = runtime->create_logical_region(ctx, is, space);
    runtime->attach_name(lr, name);
    return lr;
  };
  LogicalRegion points = make_region(
      Rect2(Point2(0, 0), Point2(L.nxi + 4 * L.ntx - 1, L.nyi + 4 * L.nty - 1)), fs, "points");
  LogicalRegion xm = make_region(Rect2(Point2(0, 0), Point2(2 * L.ntx - 1, L.nyi - 1)), fs, "xm");
  LogicalRegion xp = make_region(Rect2(Point2(0, 0), Point2(2 * L.ntx - 1, L.nyi - 1)), fs, "xp");
  LogicalRegion ym = make_region(Rect2(Point2(0, 0), Point2(L.nxi - 1, 2 * L.nty - 1)), fs, "ym");
  LogicalRegion yp = make_region(Rect2(Point2(0, 0), Point2(L.nxi - 1, 2 * L.nty - 1)), fs, "yp");
  IndexSpace times_is = runtime->create_index_space(ctx, Rect<1>(0, tiles - 1));
  LogicalRegion times = runtime->create_logical_region(ctx, times_is, times_fs);
  runtime->attach_name(times, "times");
  const Rect<1> tile_rect(0, tiles - 1);
  IndexSpace colors = runtime->create_index_space(ctx, tile_rect);

  std::map<DomainPoint, Domain> priv, inter, exter, slots[4], inputs[4], time_slots;
  LogicalRegion strips[4] = {xm, xp, ym, yp};
  for (long long i = 0; i < tiles; i++) {
    const long long ix = i % L.ntx, iy = i / L.ntx;
    const DomainPoint color = DomainPoint(Point<1, coord_t>(i));
    const Rect2 tile = L.tile(ix, iy);
    priv[color] = Domain(tile);
    inter[color] = Domain(Rect2(tile.lo + Point2(2, 2), tile.hi - Point2(2, 2)));
    // exterior: the tile minus its halo ring on the sides facing another tile
    Rect2 ext = tile;
    if (ix > 0) ext.lo[0] += 2;
    if (ix < L.ntx - 1) ext.hi[0] -= 2;
    if (iy > 0) ext.lo[1] += 2;
    if (iy < L.nty - 1) ext.hi[1] -= 2;
    exter[color] = Domain(ext);
    const Rect2 xslot(Point2(2 * ix, L.yb(iy)), Point2(2 * ix + 1, L.yb(iy + 1) - 1));
    const Rect2 yslot(Point2(L.xb(ix), 2 * iy), Point2(L.xb(ix + 1) - 1, 2 * iy + 1));
    slots[0][color] = Domain(xslot);
    slots[1][color] = Domain(xslot);
    slots[2][color] = Domain(yslot);
    slots[3][color] = Domain(yslot);
    time_slots[color] = Domain(Rect<1>(i, i));
  }
  // in-strips: the slot of the neighbour on each side (empty at the global border)
  const int dx[4] = {-1, 1, 0, 0}, dy[4] = {0, 0, -1, 1};
  for (long long i = 0; i < tiles; i++) {
    const long long ix = i % L.ntx, iy = i / L.ntx;
    const DomainPoint color = DomainPoint(Point<1, coord_t>(i));
    for (int s = 0; s < 4; s++) {
      const long long jx = ix + dx[s], jy = iy + dy[s];
      if (jx < 0 || jx >= L.ntx || jy < 0 || jy >= L.nty) {
        inputs[s][color] = Domain(empty_rect());
      } else {
        inputs[s][color] = slots[s][DomainPoint(Point<1, coord_t>(jy * L.ntx + jx))];
      }
    }
  }
  const LogicalPartition p_private =
      by_domain(ctx, runtime, points, colors, priv, LEGION_DISJOINT_KIND, "private");
  const LogicalPartition p_interior =
      by_domain(ctx, runtime, points, colors, inter, LEGION_DISJOINT_KIND, "interior");
  const LogicalPartition p_exterior =
      by_domain(ctx, runtime, points, colors, exter, LEGION_DISJOINT_KIND, "exterior");
  const char* out_names[4] = {"pxm_out", "pxp_out", "pym_out", "pyp_out"};
  const char* in_names[4] = {"pxm_in", "pxp_in", "pym_in", "pyp_in"};
  LogicalPartition p_out[4], p_in[4];
  for (int s = 0; s < 4; s++) {
    p_out[s] = by_domain(ctx, runtime, strips[s], colors, slots[s], LEGION_DISJOINT_KIND,
                         out_names[s]);
    p_in[s] = by_domain(ctx, runtime, strips[s], colors, inputs[s], LEGION_DISJOINT_KIND,
                        in_names[s]);
  }
  const LogicalPartition p_times =
      by_domain(ctx, runtime, times, colors, time_slots, LEGION_DISJOINT_KIND, "p_times");

  for (LogicalRegion r : {points, xm, xp, ym, yp}) {
    runtime->fill_field<double>(ctx, r, r, FID_INPUT, config.init);
    runtime->fill_field<double>(ctx, r, r, FID_OUTPUT, config.init);
  }

  const Domain launch_domain(tile_rect);
  const int group = 0;
  auto times_req = [&](PrivilegeMode mode) {
    RegionRequirement req(p_times, 0, mode, LEGION_EXCLUSIVE, times);
    for (FieldIDs f : {FID_INIT_START, FID_INIT_STOP, FID_START, FID_STOP}) req.add_field(f);
    return req;
  };
  {
    IndexTaskLauncher launcher(BEGIN_INIT_TASK, launch_domain, UntypedBuffer(), ArgumentMap());
    launcher.map_arg = launch_group(group);
    launcher.add_region_requirement(times_req(LEGION_WRITE_DISCARD));
    runtime->execute_index_space(ctx, launcher);
  }

  const long long steps = config.tsteps + 2 * config.tprune;
  for (long long t = 0; t < steps; t++) {
    runtime->begin_trace(ctx, 0);
    StepArgs args{config, t};
    {
      IndexTaskLauncher launcher(STENCIL_TASK, launch_domain, UntypedBuffer(&args, sizeof(args)),
                                 ArgumentMap());
      launcher.map_arg = launch_group(group);
      RegionRequirement priv_req(p_private, 0, LEGION_READ_WRITE, LEGION_EXCLUSIVE, points);
      priv_req.add_field(FID_INPUT);
      priv_req.add_field(FID_OUTPUT);
      launcher.add_region_requirement(priv_req);
      launcher.add_region_requirement(
          RegionRequirement(p_interior, 0, LEGION_NO_ACCESS, LEGION_EXCLUSIVE, points));
      for (int s = 0; s < 4; s++) {
        RegionRequirement req(p_in[s], 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, strips[s]);
        req.add_field(FID_INPUT);
        launcher.add_region_requirement(req);
      }
      launcher.add_region_requirement(times_req(LEGION_READ_WRITE));
      runtime->execute_index_space(ctx, launcher);
    }
    {
      IndexTaskLauncher launcher(INCREMENT_TASK, launch_domain,
                                 UntypedBuffer(&args, sizeof(args)), ArgumentMap());
      launcher.map_arg = launch_group(group);
      RegionRequirement priv_req(p_private, 0, LEGION_READ_WRITE, LEGION_EXCLUSIVE, points);
      priv_req.add_field(FID_INPUT);
      launcher.add_region_requirement(priv_req);
      launcher.add_region_requirement(
          RegionRequirement(p_exterior, 0, LEGION_NO_ACCESS, LEGION_EXCLUSIVE, points));
      for (int s = 0; s < 4; s++) {
        RegionRequirement req(p_out[s], 0, LEGION_READ_WRITE, LEGION_EXCLUSIVE, strips[s]);
        req.add_field(FID_INPUT);
        launcher.add_region_requirement(req);
      }
      launcher.add_region_requirement(times_req(LEGION_READ_WRITE));
      runtime->execute_index_space(ctx, launcher);
    }
    runtime->end_trace(ctx, 0);
  }

  FutureMap checks;
  {
    IndexTaskLauncher launcher(CHECK_TASK, launch_domain, UntypedBuffer(&config, sizeof(config)),
                               ArgumentMap());
    launcher.map_arg = launch_group(group);
    RegionRequirement priv_req(p_private, 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, points);
    priv_req.add_field(FID_INPUT);
    priv_req.add_field(FID_OUTPUT);
    launcher.add_region_requirement(priv_req);
    launcher.add_region_requirement(
        RegionRequirement(p_interior, 0, LEGION_NO_ACCESS, LEGION_EXCLUSIVE, points));
    checks = runtime->execute_index_space(ctx, launcher);
  }
  const struct {
    TaskIDs task;
    FieldIDs field;
    ReductionOpID redop;
  } getters[4] = {
      {GET_INIT_START_TASK, FID_INIT_START, LEGION_REDOP_MIN_INT64},
      {GET_INIT_STOP_TASK, FID_INIT_STOP, LEGION_REDOP_MAX_INT64},
      {GET_START_TASK, FID_START, LEGION_REDOP_MIN_INT64},
      {GET_STOP_TASK, FID_STOP, LEGION_REDOP_MAX_INT64},
  };
  Future stamps[4];
  for (int k = 0; k < 4; k++) {
    IndexTaskLauncher launcher(getters[k].task, launch_domain, UntypedBuffer(), ArgumentMap());
    launcher.map_arg = launch_group(group);
    RegionRequirement req(p_times, 0, LEGION_READ_ONLY, LEGION_EXCLUSIVE, times);
    req.add_field(getters[k].field);
    launcher.add_region_requirement(req);
    stamps[k] = runtime->execute_index_space(ctx, launcher, getters[k].redop);
  }
  {
    IndexTaskLauncher launcher(PRINT_TIME_TASK, launch_domain, UntypedBuffer(), ArgumentMap());
    launcher.map_arg = launch_group(group);
    for (int k = 0; k < 4; k++) launcher.add_future(stamps[k]);
    runtime->execute_index_space(ctx, launcher).wait_all_results();
  }
  long long bad_input = 0, bad_output = 0;
  for (long long i = 0; i < tiles; i++) {
    const CheckResult r = checks.get_result<CheckResult>(DomainPoint(Point<1, coord_t>(i)));
    bad_input += r.bad_input;
    bad_output += r.bad_output;
  }
  if (bad_input == 0 && bad_output == 0) {
    std::printf("check completed successfully\n");
    std::fflush(stdout);
  } else {
    if (bad_input) std::printf("total number of bad input entries: %lld\n", bad_input);
    if (bad_output) std::printf("total number of bad output entries: %lld\n", bad_output);
    assertion_failed(bad_input ? "test failed: input mismatch" : "test failed: output mismatch");
  }
}

}  // namespace

void register_stencil() {
  top_level<main_task>(MAIN_TASK, "main");
  leaf_with_result<Config, read_config_task>(READ_CONFIG_TASK, "read_config");
  leaf<begin_init_task>(BEGIN_INIT_TASK, "begin_init");
  leaf<stencil_task>(STENCIL_TASK, "stencil");
  leaf<increment_task>(INCREMENT_TASK, "increment");
  leaf_with_result<CheckResult, check_task>(CHECK_TASK, "check");
  leaf_with_result<int64_t, get_time_task<FID_INIT_START>>(GET_INIT_START_TASK, "get_init_start");
  leaf_with_result<int64_t, get_time_task<FID_INIT_STOP>>(GET_INIT_STOP_TASK, "get_init_stop");
  leaf_with_result<int64_t, get_time_task<FID_START>>(GET_START_TASK, "get_start");
  leaf_with_result<int64_t, get_time_task<FID_STOP>>(GET_STOP_TASK, "get_stop");
  leaf<print_time_task>(PRINT_TIME_TASK, "print_time");
}

}  // namespace apps
}  // namespace mapper_gym
