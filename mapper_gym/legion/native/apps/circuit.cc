/*
 * Circuit (apps.md §1): an electrical circuit of nodes (capacitors with a leak) and wires (RLC
 * lines of 10 segments), written for mapper-gym from the description of the Regent program
 * circuit_sparse.rg.
 *
 * The graph has p pieces of npp nodes and wpp wires; pps pieces form a superpiece, the unit of
 * parallelism (launch domain S = p / pps). snpp = ceil(npp / 100) nodes of each piece are
 * "shared": other pieces' wires may end on them. Node ids: all shared nodes first, grouped by
 * piece, then the private nodes, grouped by superpiece. A wire starts at a node of its own
 * piece; with probability pct/100 it ends in its piece too, otherwise at a shared node of one
 * of five neighbour pieces drawn from piece ids within ±3 (clipped at the ends).
 *
 * Regions and partitions (names as benchmarks/circuit.py publishes them): all_nodes split into
 * all_private / all_shared (rp_all_nodes), rp_private and rp_shared by superpiece, rp_ghost the
 * aliased image of each superpiece's ghost range (the id range of other superpieces' shared
 * nodes its wires reach, computed by init_piece into ghost_ranges), all_wires / rp_wires,
 * all_times / rp_times. Wire endpoints are multi-region pointers: a node id plus which of the
 * superpiece's three node regions (private, shared, ghost) holds it.
 *
 * Each iteration: calculate_new_currents (the RLC recurrence over `steps` sub-steps, 96 flops
 * per wire and sub-step), distribute_charge (charge to both ends; reductions into shared and
 * ghost nodes), update_voltages (voltage from charge and leakage). Requirement lists follow
 * benchmarks/circuit.py exactly, including Regent's split of a region argument by privilege.
 */
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "common.h"

using namespace Legion;

namespace mapper_gym {
namespace apps {
namespace {

enum TaskIDs {
  TOPLEVEL_TASK = 200,
  PARSE_INPUT_TASK,
  BEGIN_INIT_TASK,
  INIT_PIECE_TASK,
  INIT_POINTERS_TASK,
  CALCULATE_NEW_CURRENTS_TASK,
  DISTRIBUTE_CHARGE_TASK,
  UPDATE_VOLTAGES_TASK,
  GET_ELAPSED_TASK,
  PRINT_SUMMARY_TASK,
};

constexpr int kSegments = 10;
constexpr float kDeltaT = 1e-6f;

enum FieldIDs {
  FID_NODE_CAP = 1,
  FID_LEAKAGE,
  FID_CHARGE,
  FID_NODE_VOLTAGE,
  FID_IN_PTR = 10,
  FID_OUT_PTR,
  FID_INDUCTANCE,
  FID_RESISTANCE,
  FID_WIRE_CAP,
  FID_CURRENT = 20,                   // current._0 .. current._9
  FID_VOLTAGE = FID_CURRENT + kSegments,  // voltage._0 .. voltage._8
  FID_INIT_START = 50,
  FID_INIT_STOP,
  FID_START,
  FID_STOP,
  FID_RANGE = 60,
};

/* Which of a superpiece's node regions holds a wire endpoint. */
enum NodeRegion : int64_t { IN_PRIVATE = 0, IN_SHARED = 1, IN_GHOST = 2, UNRESOLVED = -1 };

struct NodePtr {
  int64_t node;
  int64_t region;
};

struct Config {
  long long npp, wpp, pieces, pps, loops, prune, steps, pct, seed;
  long long snpp() const { return (npp + 99) / 100; }
  long long superpieces() const { return pieces / pps; }
  long long shared_total() const { return pieces * snpp(); }
  long long private_per_superpiece() const { return pps * (npp - snpp()); }
  long long wires_per_superpiece() const { return pps * wpp; }
};

struct StepArgs {
  Config config;
  long long step;
};

struct Times {
  double init_time;
  double elapsed;
  int64_t start, stop;  // the measured window on Realm's clock
};

/* splitmix64: a small, good, seedable generator; every node and piece seeds its own stream, so
 * results do not depend on where or in which order points run. */
struct Random {
  uint64_t state;
  explicit Random(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  long long below(long long n) { return static_cast<long long>(next() % static_cast<uint64_t>(n)); }
};

uint64_t stream(long long seed, long long kind, long long id) {
  return static_cast<uint64_t>(seed) * 0x100000001B3ULL ^ (static_cast<uint64_t>(kind) << 56) ^
         static_cast<uint64_t>(id);
}

/* Node id of local node n (0 <= n < npp) of circuit piece k. */
long long node_id(const Config& c, long long k, long long n) {
  if (n < c.snpp()) return k * c.snpp() + n;
  const long long s = k / c.pps, q = k % c.pps;
  return c.shared_total() + s * c.private_per_superpiece() + q * (c.npp - c.snpp()) +
         (n - c.snpp());
}

Rect<1> bounds_of(Runtime* runtime, const RegionRequirement& req) {
  return Rect<1>(runtime->get_index_space_domain(req.region.get_index_space()));
}

using FloatRO = FieldAccessor<LEGION_READ_ONLY, float, 1, coord_t,
                              Realm::AffineAccessor<float, 1, coord_t>>;
using FloatRW = FieldAccessor<LEGION_READ_WRITE, float, 1, coord_t,
                              Realm::AffineAccessor<float, 1, coord_t>>;
using PtrRO = FieldAccessor<LEGION_READ_ONLY, NodePtr, 1, coord_t,
                            Realm::AffineAccessor<NodePtr, 1, coord_t>>;
using PtrRW = FieldAccessor<LEGION_READ_WRITE, NodePtr, 1, coord_t,
                            Realm::AffineAccessor<NodePtr, 1, coord_t>>;
using FloatSum = ReductionAccessor<SumReduction<float>, true /*exclusive*/, 1, coord_t,
                                   Realm::AffineAccessor<float, 1, coord_t>>;

// -------------------------------------------------------------------------------------------

Config parse_input_task(const Task*, const std::vector<PhysicalRegion>&, Context, Runtime*) {
  Options o;
  Config c;
  c.npp = o.integer("npp", 4);
  c.wpp = o.integer("wpp", 8);
  c.pieces = o.integer("p", 4);
  c.pps = o.integer("pps", 1);
  c.loops = o.integer("l", 5);
  c.prune = o.integer("prune", 0);
  c.steps = o.integer("i", 10000);
  c.pct = o.integer("pct", 80);
  c.seed = o.integer("s", 12345);
  if (c.npp < 2 || c.wpp < 1 || c.pieces < 1 || c.pps < 1 || c.pieces % c.pps != 0 ||
      c.loops < 1 || c.prune < 0 || c.steps < 1 || c.pct < 0 || c.pct > 100) {
    std::fprintf(stderr, "circuit: invalid configuration\n");
    std::exit(2);
  }
  return c;
}

void begin_init_task(const Task*, const std::vector<PhysicalRegion>& regions, Context,
                     Runtime*) {
  const int64_t now = now_ns();
  for (FieldID fid : {FID_INIT_START, FID_INIT_STOP, FID_START, FID_STOP}) {
    const FieldAccessor<LEGION_WRITE_DISCARD, int64_t, 1, coord_t> field(regions[0], fid);
    for (PointInRectIterator<1> p(regions[0].get_bounds<1, coord_t>().bounds); p(); p++) field[*p] = now;
  }
}

void init_piece_task(const Task* task, const std::vector<PhysicalRegion>& regions, Context,
                     Runtime* runtime) {
  const Config& c = *static_cast<const Config*>(task->args);
  const long long s = task->index_point[0];
  // Nodes of the superpiece (its private and its own shared nodes).
  for (int r = 1; r <= 2; r++) {
    const Rect<1> nodes = bounds_of(runtime, task->regions[r]);
    const FieldAccessor<LEGION_READ_WRITE, float, 1, coord_t> cap(regions[r], FID_NODE_CAP);
    const FieldAccessor<LEGION_READ_WRITE, float, 1, coord_t> leak(regions[r], FID_LEAKAGE);
    const FieldAccessor<LEGION_READ_WRITE, float, 1, coord_t> charge(regions[r], FID_CHARGE);
    const FieldAccessor<LEGION_READ_WRITE, float, 1, coord_t> volt(regions[r], FID_NODE_VOLTAGE);
    for (PointInRectIterator<1> p(nodes); p(); p++) {
      Random rng(stream(c.seed, 1, p[0]));
      cap[*p] = static_cast<float>(1.0 + rng.uniform());
      leak[*p] = static_cast<float>(0.1 * rng.uniform());
      charge[*p] = 0.0f;
      volt[*p] = static_cast<float>(2.0 * rng.uniform() - 1.0);
    }
  }
  // Wires of the superpiece's pieces; endpoints are plain node ids until init_pointers.
  const Rect<1> shared_all = bounds_of(runtime, task->regions[4]);
  const long long own_lo = s * c.pps * c.snpp(), own_hi = (s + 1) * c.pps * c.snpp() - 1;
  const PtrRW in_ptr(regions[3], FID_IN_PTR), out_ptr(regions[3], FID_OUT_PTR);
  const FloatRW ind(regions[3], FID_INDUCTANCE), res(regions[3], FID_RESISTANCE),
      wcap(regions[3], FID_WIRE_CAP);
  std::vector<FloatRW> current, voltage;
  for (int k = 0; k < kSegments; k++) current.emplace_back(regions[3], FID_CURRENT + k);
  for (int k = 0; k < kSegments - 1; k++) voltage.emplace_back(regions[3], FID_VOLTAGE + k);
  long long ghost_lo = 0, ghost_hi = -1;
  for (long long q = 0; q < c.pps; q++) {
    const long long piece = s * c.pps + q;
    Random rng(stream(c.seed, 2, piece));
    // Five neighbour pieces drawn from the window of ±3 piece ids (clipped).
    std::vector<long long> window;
    for (long long k = std::max(0LL, piece - 3); k <= std::min(c.pieces - 1, piece + 3); k++)
      if (k != piece) window.push_back(k);
    for (size_t a = window.size(); a > 1; a--) std::swap(window[a - 1], window[rng.below(a)]);
    if (window.size() > 5) window.resize(5);
    for (long long w = 0; w < c.wpp; w++) {
      const coord_t id = piece * c.wpp + w;
      in_ptr[id] = NodePtr{node_id(c, piece, rng.below(c.npp)), UNRESOLVED};
      long long out;
      if (window.empty() || rng.below(100) < c.pct) {
        out = node_id(c, piece, rng.below(c.npp));
      } else {
        const long long other = window[rng.below(static_cast<long long>(window.size()))];
        out = other * c.snpp() + rng.below(c.snpp());
      }
      out_ptr[id] = NodePtr{out, UNRESOLVED};
      if (shared_all.contains(Point<1, coord_t>(out)) && (out < own_lo || out > own_hi)) {
        if (ghost_hi < ghost_lo) {
          ghost_lo = ghost_hi = out;
        } else {
          ghost_lo = std::min(ghost_lo, out);
          ghost_hi = std::max(ghost_hi, out);
        }
      }
      ind[id] = static_cast<float>((1.0 + 4.0 * rng.uniform()) * 1e-7);
      res[id] = static_cast<float>(1.0 + rng.uniform());
      wcap[id] = static_cast<float>((1.0 + rng.uniform()) * 1e-2);
      for (int k = 0; k < kSegments; k++) current[k][id] = 0.0f;
      for (int k = 0; k < kSegments - 1; k++) voltage[k][id] = 0.0f;
    }
  }
  const FieldAccessor<LEGION_READ_WRITE, Rect<1>, 1, coord_t> range(regions[0], FID_RANGE);
  range[Point<1, coord_t>(s)] = Rect<1>(ghost_lo, ghost_hi);
}

void init_pointers_task(const Task* task, const std::vector<PhysicalRegion>& regions, Context,
                        Runtime* runtime) {
  const Rect<1> wires = bounds_of(runtime, task->regions[0]);
  const Rect<1> priv = bounds_of(runtime, task->regions[1]);
  const Rect<1> shared = bounds_of(runtime, task->regions[2]);
  const Rect<1> ghost = bounds_of(runtime, task->regions[3]);
  const PtrRW in_ptr(regions[0], FID_IN_PTR), out_ptr(regions[0], FID_OUT_PTR);
  auto resolve = [&](NodePtr ptr) {
    const Point<1, coord_t> n(ptr.node);
    if (priv.contains(n)) ptr.region = IN_PRIVATE;
    else if (shared.contains(n)) ptr.region = IN_SHARED;
    else if (ghost.contains(n)) ptr.region = IN_GHOST;
    else assertion_failed("wire endpoint outside its superpiece's node regions");
    return ptr;
  };
  for (PointInRectIterator<1> w(wires); w(); w++) {
    in_ptr[*w] = resolve(in_ptr[*w]);
    out_ptr[*w] = resolve(out_ptr[*w]);
  }
}

void calculate_new_currents_task(const Task* task, const std::vector<PhysicalRegion>& regions,
                                 Context, Runtime* runtime) {
  const int64_t started = now_ns();
  const StepArgs& args = *static_cast<const StepArgs*>(task->args);
  const long long steps = args.config.steps;
  const FloatRO volt[3] = {FloatRO(regions[0], FID_NODE_VOLTAGE),
                           FloatRO(regions[1], FID_NODE_VOLTAGE),
                           FloatRO(regions[2], FID_NODE_VOLTAGE)};
  const Rect<1> wires = bounds_of(runtime, task->regions[3]);
  const PtrRO in_ptr(regions[3], FID_IN_PTR), out_ptr(regions[3], FID_OUT_PTR);
  const FloatRO ind(regions[3], FID_INDUCTANCE), res(regions[3], FID_RESISTANCE),
      wcap(regions[3], FID_WIRE_CAP);
  std::vector<FloatRW> current, voltage;
  for (int k = 0; k < kSegments; k++) current.emplace_back(regions[4], FID_CURRENT + k);
  for (int k = 0; k < kSegments - 1; k++) voltage.emplace_back(regions[4], FID_VOLTAGE + k);

  const float dt = kDeltaT;
  for (PointInRectIterator<1> w(wires); w(); w++) {
    const NodePtr in = in_ptr[*w], out = out_ptr[*w];
    float v[kSegments + 1], i[kSegments], old_v[kSegments + 1], old_i[kSegments];
    v[0] = volt[in.region][in.node];
    v[kSegments] = volt[out.region][out.node];
    for (int k = 0; k < kSegments - 1; k++) v[k + 1] = voltage[k][*w];
    for (int k = 0; k < kSegments; k++) i[k] = current[k][*w];
    std::copy(v, v + kSegments + 1, old_v);
    std::copy(i, i + kSegments, old_i);
    const float L = ind[*w], R = res[*w], C = wcap[*w];
    for (long long j = 0; j < steps; j++) {
      // Segment currents from the voltage across each segment: dV = R·I + L·dI/dt.
      for (int k = 0; k < kSegments; k++)
        i[k] = ((v[k + 1] - v[k]) - L * (i[k] - old_i[k]) / dt) / R;
      // Inner voltages from the net current into each inner point: C·dV/dt = I_in - I_out.
      for (int k = 0; k < kSegments - 1; k++)
        v[k + 1] = old_v[k + 1] + dt * (i[k] - i[k + 1]) / C;
    }
    for (int k = 0; k < kSegments; k++) current[k][*w] = i[k];
    for (int k = 0; k < kSegments - 1; k++) voltage[k][*w] = v[k + 1];
  }
  if (args.step == args.config.prune) {
    const FieldAccessor<LEGION_READ_WRITE, int64_t, 1, coord_t> start(regions[5], FID_START);
    for (PointInRectIterator<1> p(regions[5].get_bounds<1, coord_t>().bounds); p(); p++)
      start[*p] = started;
  }
}

void distribute_charge_task(const Task* task, const std::vector<PhysicalRegion>& regions,
                            Context, Runtime* runtime) {
  const FloatRW private_charge(regions[0], FID_CHARGE);
  const FloatSum shared_charge(regions[1], FID_CHARGE, LEGION_REDOP_SUM_FLOAT32);
  const FloatSum ghost_charge(regions[2], FID_CHARGE, LEGION_REDOP_SUM_FLOAT32);
  const Rect<1> wires = bounds_of(runtime, task->regions[3]);
  const PtrRO in_ptr(regions[3], FID_IN_PTR), out_ptr(regions[3], FID_OUT_PTR);
  const FloatRO first(regions[3], FID_CURRENT), last(regions[3], FID_CURRENT + kSegments - 1);
  const float dt = kDeltaT;
  auto deposit = [&](const NodePtr& ptr, float amount) {
    const Point<1, coord_t> n(ptr.node);
    switch (ptr.region) {
      case IN_PRIVATE: private_charge[n] = private_charge[n] + amount; break;
      case IN_SHARED: shared_charge[n] <<= amount; break;
      default: ghost_charge[n] <<= amount; break;
    }
  };
  for (PointInRectIterator<1> w(wires); w(); w++) {
    deposit(in_ptr[*w], -dt * first[*w]);
    deposit(out_ptr[*w], dt * last[*w]);
  }
}

void update_voltages_task(const Task* task, const std::vector<PhysicalRegion>& regions,
                          Context, Runtime* runtime) {
  const StepArgs& args = *static_cast<const StepArgs*>(task->args);
  for (int r = 0; r <= 2; r += 2) {  // private (requirements 0, 1), shared (2, 3)
    const Rect<1> nodes = bounds_of(runtime, task->regions[r]);
    const FloatRO cap(regions[r], FID_NODE_CAP), leak(regions[r], FID_LEAKAGE);
    const FloatRW volt(regions[r + 1], FID_NODE_VOLTAGE), charge(regions[r + 1], FID_CHARGE);
    for (PointInRectIterator<1> p(nodes); p(); p++) {
      const float v = (volt[*p] + charge[*p] / cap[*p]) * (1.0f - leak[*p]);
      volt[*p] = v;
      charge[*p] = 0.0f;
    }
  }
  const int64_t finished = now_ns();
  const long long last = args.config.loops + args.config.prune - 1;
  if (args.step == 0 || args.step == last) {
    const FieldAccessor<LEGION_READ_WRITE, int64_t, 1, coord_t> init_stop(regions[4],
                                                                         FID_INIT_STOP);
    const FieldAccessor<LEGION_READ_WRITE, int64_t, 1, coord_t> stop(regions[4], FID_STOP);
    for (PointInRectIterator<1> p(regions[4].get_bounds<1, coord_t>().bounds); p(); p++) {
      if (args.step == 0) init_stop[*p] = finished;
      if (args.step == last) stop[*p] = finished;
    }
  }
}

Times get_elapsed_task(const Task*, const std::vector<PhysicalRegion>& regions, Context,
                       Runtime*) {
  const FieldAccessor<LEGION_READ_ONLY, int64_t, 1, coord_t> init_start(regions[0],
                                                                       FID_INIT_START);
  const FieldAccessor<LEGION_READ_ONLY, int64_t, 1, coord_t> init_stop(regions[0], FID_INIT_STOP);
  const FieldAccessor<LEGION_READ_ONLY, int64_t, 1, coord_t> start(regions[0], FID_START);
  const FieldAccessor<LEGION_READ_ONLY, int64_t, 1, coord_t> stop(regions[0], FID_STOP);
  int64_t a = INT64_MAX, b = INT64_MIN, c = INT64_MAX, d = INT64_MIN;
  for (PointInRectIterator<1> p(regions[0].get_bounds<1, coord_t>().bounds); p(); p++) {
    a = std::min<int64_t>(a, init_start[*p]);
    b = std::max<int64_t>(b, init_stop[*p]);
    c = std::min<int64_t>(c, start[*p]);
    d = std::max<int64_t>(d, stop[*p]);
  }
  return Times{(b - a) * 1e-9, (d - c) * 1e-9, c, d};
}

void print_summary_task(const Task* task, const std::vector<PhysicalRegion>&, Context,
                        Runtime*) {
  if (task->index_point[0] != 0) return;  // only point 0 prints
  const Config& c = *static_cast<const Config*>(task->args);
  const Times t = task->futures[0].get_result<Times>();
  const double flops = static_cast<double>(c.loops) *
                       (static_cast<double>(c.pieces * c.wpp) * (96.0 * c.steps + 4.0) +
                        4.0 * static_cast<double>(c.pieces * c.npp));
  std::printf("INIT TIME = %7.3f s\n", t.init_time);
  std::printf("ELAPSED TIME = %7.3f s\n", t.elapsed);
  std::printf("GFLOPS = %7.3f GFLOPS\n", flops / t.elapsed / 1e9);
  std::fflush(stdout);
  report_timing(t.init_time, t.elapsed, t.start, t.stop);
}

// -------------------------------------------------------------------------------------------

void toplevel_task(const Task*, const std::vector<PhysicalRegion>&, Context ctx,
                   Runtime* runtime) {
  const Config c = runtime->execute_task(ctx, TaskLauncher(PARSE_INPUT_TASK, UntypedBuffer()))
                       .get_result<Config>();
  const long long S = c.superpieces(), nodes = c.pieces * c.npp, wires = c.pieces * c.wpp;
  const long long node_bytes = 4 * sizeof(float);
  const long long wire_bytes = 2 * sizeof(NodePtr) + (3 + kSegments + kSegments - 1) * sizeof(float);
  std::printf("circuit settings: loops=%lld prune=%lld pieces=%lld (pieces/superpiece=%lld) "
              "nodes/piece=%lld (nodes/piece=%lld) wires/piece=%lld pct_in_piece=%lld "
              "seed=%lld\n",
              c.loops, c.prune, c.pieces, c.pps, c.npp, c.snpp(), c.wpp, c.pct, c.seed);
  std::printf("Circuit memory usage:\n");
  std::printf("  Nodes : %10lld * %4lld bytes = %12lld bytes\n", nodes, node_bytes,
              nodes * node_bytes);
  std::printf("  Wires : %10lld * %4lld bytes = %12lld bytes\n", wires, wire_bytes,
              wires * wire_bytes);
  std::printf("  Total                             %12lld bytes\n",
              nodes * node_bytes + wires * wire_bytes);
  std::fflush(stdout);

  FieldSpace node_fs = field_space(ctx, runtime,
                                   {{FID_NODE_CAP, {sizeof(float), "node_cap"}},
                                    {FID_LEAKAGE, {sizeof(float), "leakage"}},
                                    {FID_CHARGE, {sizeof(float), "charge"}},
                                    {FID_NODE_VOLTAGE, {sizeof(float), "node_voltage"}}});
  std::vector<std::pair<FieldID, std::pair<size_t, std::string>>> wire_fields = {
      {FID_IN_PTR, {sizeof(NodePtr), "in_ptr"}},
      {FID_OUT_PTR, {sizeof(NodePtr), "out_ptr"}},
      {FID_INDUCTANCE, {sizeof(float), "inductance"}},
      {FID_RESISTANCE, {sizeof(float), "resistance"}},
      {FID_WIRE_CAP, {sizeof(float), "wire_cap"}}};
  for (int k = 0; k < kSegments; k++)
    wire_fields.push_back({static_cast<FieldID>(FID_CURRENT + k),
                           {sizeof(float), "current._" + std::to_string(k)}});
  for (int k = 0; k < kSegments - 1; k++)
    wire_fields.push_back({static_cast<FieldID>(FID_VOLTAGE + k),
                           {sizeof(float), "voltage._" + std::to_string(k)}});
  FieldSpace wire_fs = field_space(ctx, runtime, wire_fields);
  FieldSpace times_fs = field_space(ctx, runtime,
                                    {{FID_INIT_START, {sizeof(int64_t), "init_start"}},
                                     {FID_INIT_STOP, {sizeof(int64_t), "init_stop"}},
                                     {FID_START, {sizeof(int64_t), "start"}},
                                     {FID_STOP, {sizeof(int64_t), "stop"}}});
  FieldSpace range_fs = field_space(ctx, runtime, {{FID_RANGE, {sizeof(Rect<1>), "range"}}});

  auto region = [&](long long size, FieldSpace fs, const char* name) {
    IndexSpace is = runtime->create_index_space(ctx, Rect<1>(0, size - 1));
    LogicalRegion lr = runtime->create_logical_region(ctx, is, fs);
    runtime->attach_name(lr, name);
    return lr;
  };
  LogicalRegion all_nodes = region(nodes, node_fs, "all_nodes");
  LogicalRegion all_wires = region(wires, wire_fs, "all_wires");
  LogicalRegion all_times = region(S, times_fs, "all_times");
  LogicalRegion ghost_ranges = region(S, range_fs, "ghost_ranges");

  const long long shared_total = c.shared_total(), priv_s = c.private_per_superpiece();
  const long long shared_s = c.pps * c.snpp(), wires_s = c.wires_per_superpiece();
  IndexSpace halves = runtime->create_index_space(ctx, Rect<1>(0, 1));
  std::map<DomainPoint, Domain> split;
  split[DomainPoint(Point<1, coord_t>(0))] = Domain(Rect<1>(shared_total, nodes - 1));
  split[DomainPoint(Point<1, coord_t>(1))] = Domain(Rect<1>(0, shared_total - 1));
  LogicalPartition rp_all_nodes =
      by_domain(ctx, runtime, all_nodes, halves, split, LEGION_DISJOINT_COMPLETE_KIND,
                "rp_all_nodes");
  LogicalRegion all_private = runtime->get_logical_subregion_by_color(ctx, rp_all_nodes, 0);
  LogicalRegion all_shared = runtime->get_logical_subregion_by_color(ctx, rp_all_nodes, 1);
  runtime->attach_name(all_private, "all_private");
  runtime->attach_name(all_shared, "all_shared");

  const Rect<1> pieces_rect(0, S - 1);
  IndexSpace colors = runtime->create_index_space(ctx, pieces_rect);
  std::map<DomainPoint, Domain> priv, shared, wire_blocks, singles;
  for (long long i = 0; i < S; i++) {
    const DomainPoint color = DomainPoint(Point<1, coord_t>(i));
    priv[color] = Domain(Rect<1>(shared_total + i * priv_s, shared_total + (i + 1) * priv_s - 1));
    shared[color] = Domain(Rect<1>(i * shared_s, (i + 1) * shared_s - 1));
    wire_blocks[color] = Domain(Rect<1>(i * wires_s, (i + 1) * wires_s - 1));
    singles[color] = Domain(Rect<1>(i, i));
  }
  LogicalPartition rp_private = by_domain(ctx, runtime, all_private, colors, priv,
                                          LEGION_DISJOINT_COMPLETE_KIND, "rp_private");
  LogicalPartition rp_shared = by_domain(ctx, runtime, all_shared, colors, shared,
                                         LEGION_DISJOINT_COMPLETE_KIND, "rp_shared");
  LogicalPartition rp_wires = by_domain(ctx, runtime, all_wires, colors, wire_blocks,
                                        LEGION_DISJOINT_COMPLETE_KIND, "rp_wires");
  LogicalPartition rp_times = by_domain(ctx, runtime, all_times, colors, singles,
                                        LEGION_DISJOINT_COMPLETE_KIND, "rp_times");
  LogicalPartition rp_ghost_ranges = by_domain(ctx, runtime, ghost_ranges, colors, singles,
                                               LEGION_DISJOINT_COMPLETE_KIND, "rp_ghost_ranges");

  const Domain launch_domain(pieces_rect);
  const int group = 0;
  const UntypedBuffer config_arg(&c, sizeof(c));
  std::vector<FieldID> all_wire_fields;
  for (const auto& f : wire_fields) all_wire_fields.push_back(f.first);
  const std::vector<FieldID> time_fields = {FID_INIT_START, FID_INIT_STOP, FID_START, FID_STOP};
  const std::vector<FieldID> node_fields = {FID_NODE_CAP, FID_LEAKAGE, FID_CHARGE,
                                            FID_NODE_VOLTAGE};
  auto req = [](LogicalPartition lp, PrivilegeMode mode, LogicalRegion parent,
                const std::vector<FieldID>& fields) {
    RegionRequirement r(lp, 0, mode, LEGION_EXCLUSIVE, parent);
    for (FieldID f : fields) r.add_field(f);
    return r;
  };
  auto reduce = [](LogicalPartition lp, LogicalRegion parent, FieldID field) {
    RegionRequirement r(lp, 0, static_cast<ReductionOpID>(LEGION_REDOP_SUM_FLOAT32),
                        LEGION_EXCLUSIVE, parent);
    r.add_field(field);
    return r;
  };
  auto bounds_only = [](LogicalPartition lp, LogicalRegion parent) {
    return RegionRequirement(lp, 0, LEGION_NO_ACCESS, LEGION_EXCLUSIVE, parent);
  };
  auto index_launch = [&](TaskID id, UntypedBuffer args) {
    IndexTaskLauncher launcher(id, launch_domain, args, ArgumentMap());
    launcher.map_arg = launch_group(group);
    return launcher;
  };

  {
    IndexTaskLauncher l = index_launch(BEGIN_INIT_TASK, UntypedBuffer());
    l.add_region_requirement(req(rp_times, LEGION_WRITE_DISCARD, all_times, time_fields));
    runtime->execute_index_space(ctx, l);
  }
  // init_piece reads and writes whole pieces (read-write, as in the original); fill them
  // first so that no task ever reads uninitialised data.
  for (FieldID f : node_fields) runtime->fill_field<float>(ctx, all_nodes, all_nodes, f, 0.0f);
  for (FieldID f : all_wire_fields) {
    if (f == FID_IN_PTR || f == FID_OUT_PTR)
      runtime->fill_field<NodePtr>(ctx, all_wires, all_wires, f, NodePtr{0, UNRESOLVED});
    else
      runtime->fill_field<float>(ctx, all_wires, all_wires, f, 0.0f);
  }
  runtime->fill_field<Rect<1>>(ctx, ghost_ranges, ghost_ranges, FID_RANGE, Rect<1>(0, -1));
  {
    IndexTaskLauncher l = index_launch(INIT_PIECE_TASK, config_arg);
    l.add_region_requirement(req(rp_ghost_ranges, LEGION_READ_WRITE, ghost_ranges, {FID_RANGE}));
    l.add_region_requirement(req(rp_private, LEGION_READ_WRITE, all_nodes, node_fields));
    l.add_region_requirement(req(rp_shared, LEGION_READ_WRITE, all_nodes, node_fields));
    l.add_region_requirement(req(rp_wires, LEGION_READ_WRITE, all_wires, all_wire_fields));
    l.add_region_requirement(
        RegionRequirement(all_shared, LEGION_NO_ACCESS, LEGION_EXCLUSIVE, all_nodes));
    runtime->execute_index_space(ctx, l);
  }
  IndexPartition ghost_ip = runtime->create_partition_by_image_range(
      ctx, all_shared.get_index_space(), rp_ghost_ranges, ghost_ranges, FID_RANGE, colors,
      LEGION_ALIASED_KIND);
  runtime->attach_name(ghost_ip, "rp_ghost");
  LogicalPartition rp_ghost = runtime->get_logical_partition(ctx, all_shared, ghost_ip);
  runtime->attach_name(rp_ghost, "rp_ghost");
  {
    IndexTaskLauncher l = index_launch(INIT_POINTERS_TASK, config_arg);
    l.add_region_requirement(req(rp_wires, LEGION_READ_WRITE, all_wires, {FID_IN_PTR, FID_OUT_PTR}));
    l.add_region_requirement(bounds_only(rp_private, all_nodes));
    l.add_region_requirement(bounds_only(rp_shared, all_nodes));
    l.add_region_requirement(bounds_only(rp_ghost, all_nodes));
    runtime->execute_index_space(ctx, l);
  }

  std::vector<FieldID> currents, segments;
  for (int k = 0; k < kSegments; k++) currents.push_back(FID_CURRENT + k);
  segments = currents;
  for (int k = 0; k < kSegments - 1; k++) segments.push_back(FID_VOLTAGE + k);
  const long long iterations = c.loops + 2 * c.prune;
  for (long long j = 0; j < iterations; j++) {
    runtime->begin_trace(ctx, 0);
    StepArgs args{c, j};
    const UntypedBuffer step_arg(&args, sizeof(args));
    {
      IndexTaskLauncher l = index_launch(CALCULATE_NEW_CURRENTS_TASK, step_arg);
      l.add_region_requirement(req(rp_private, LEGION_READ_ONLY, all_nodes, {FID_NODE_VOLTAGE}));
      l.add_region_requirement(req(rp_shared, LEGION_READ_ONLY, all_nodes, {FID_NODE_VOLTAGE}));
      l.add_region_requirement(req(rp_ghost, LEGION_READ_ONLY, all_nodes, {FID_NODE_VOLTAGE}));
      l.add_region_requirement(req(rp_wires, LEGION_READ_ONLY, all_wires,
                                   {FID_IN_PTR, FID_OUT_PTR, FID_INDUCTANCE, FID_RESISTANCE,
                                    FID_WIRE_CAP}));
      l.add_region_requirement(req(rp_wires, LEGION_READ_WRITE, all_wires, segments));
      l.add_region_requirement(req(rp_times, LEGION_READ_WRITE, all_times, time_fields));
      runtime->execute_index_space(ctx, l);
    }
    {
      IndexTaskLauncher l = index_launch(DISTRIBUTE_CHARGE_TASK, step_arg);
      l.add_region_requirement(req(rp_private, LEGION_READ_WRITE, all_nodes, {FID_CHARGE}));
      l.add_region_requirement(reduce(rp_shared, all_nodes, FID_CHARGE));
      l.add_region_requirement(reduce(rp_ghost, all_nodes, FID_CHARGE));
      l.add_region_requirement(req(rp_wires, LEGION_READ_ONLY, all_wires,
                                   {FID_IN_PTR, FID_OUT_PTR, FID_CURRENT,
                                    static_cast<FieldID>(FID_CURRENT + kSegments - 1)}));
      runtime->execute_index_space(ctx, l);
    }
    {
      IndexTaskLauncher l = index_launch(UPDATE_VOLTAGES_TASK, step_arg);
      l.add_region_requirement(req(rp_private, LEGION_READ_ONLY, all_nodes,
                                   {FID_NODE_CAP, FID_LEAKAGE}));
      l.add_region_requirement(req(rp_private, LEGION_READ_WRITE, all_nodes,
                                   {FID_NODE_VOLTAGE, FID_CHARGE}));
      l.add_region_requirement(req(rp_shared, LEGION_READ_ONLY, all_nodes,
                                   {FID_NODE_CAP, FID_LEAKAGE}));
      l.add_region_requirement(req(rp_shared, LEGION_READ_WRITE, all_nodes,
                                   {FID_NODE_VOLTAGE, FID_CHARGE}));
      l.add_region_requirement(req(rp_times, LEGION_READ_WRITE, all_times, time_fields));
      runtime->execute_index_space(ctx, l);
    }
    runtime->end_trace(ctx, 0);
  }

  Future times;
  {
    TaskLauncher l(GET_ELAPSED_TASK, UntypedBuffer());
    l.map_arg = launch_group(group);
    RegionRequirement r(all_times, LEGION_READ_ONLY, LEGION_EXCLUSIVE, all_times);
    for (FieldID f : time_fields) r.add_field(f);
    l.add_region_requirement(r);
    times = runtime->execute_task(ctx, l);
  }
  {
    IndexTaskLauncher l = index_launch(PRINT_SUMMARY_TASK, config_arg);
    l.add_future(times);
    runtime->execute_index_space(ctx, l).wait_all_results();
  }
}

}  // namespace

void register_circuit() {
  top_level<toplevel_task>(TOPLEVEL_TASK, "toplevel");
  leaf_with_result<Config, parse_input_task>(PARSE_INPUT_TASK, "parse_input");
  leaf<begin_init_task>(BEGIN_INIT_TASK, "begin_init");
  leaf<init_piece_task>(INIT_PIECE_TASK, "init_piece");
  leaf<init_pointers_task>(INIT_POINTERS_TASK, "init_pointers");
  leaf<calculate_new_currents_task>(CALCULATE_NEW_CURRENTS_TASK, "calculate_new_currents");
  leaf<distribute_charge_task>(DISTRIBUTE_CHARGE_TASK, "distribute_charge");
  leaf<update_voltages_task>(UPDATE_VOLTAGES_TASK, "update_voltages");
  leaf_with_result<Times, get_elapsed_task>(GET_ELAPSED_TASK, "get_elapsed");
  leaf<print_summary_task>(PRINT_SUMMARY_TASK, "print_summary");
}

}  // namespace apps
}  // namespace mapper_gym
