"""Reading a real run's output: timing, the mapper's log lines and failure classification
(synthetic outputs in the real programs' formats; no Legion needed)."""

from __future__ import annotations

import pytest

from mapper_gym.legion.output import (
    STRIDE_MESSAGE,
    LoggedInstance,
    diagnose,
    parse_mappings,
    parse_timing,
)
from mapper_gym.legion.process import ProcessOutcome

GPU_NOISE = ("[0 - 7f3a10263000]    0.000000 {5}{gpu}: We are not able to discover the CUDA "
             "resources.\n")


def outcome(stdout="", stderr="", returncode=0, timed_out=False, memory=False) -> ProcessOutcome:
    return ProcessOutcome(("prog",), returncode, stdout, stderr, 1.0, timed_out, memory, 10)


OK_STDOUT = "INIT TIME =   0.010 s\nELAPSED TIME =   0.123 s\ncheck completed successfully\n"


def test_precise_timing_line_wins_over_the_rounded_one():
    err = "MAPGYM timing init=0.010123456 elapsed=0.123456789\n"
    assert parse_timing(OK_STDOUT, err) == (0.123456789, 0.010123456)
    assert parse_timing(OK_STDOUT, "") == (0.123, 0.010)
    assert parse_timing("", "") == (None, None)


def test_mapping_lines_parse_into_decisions():
    err = (
        "MAPGYM map t=0.5 task=stencil group=0 point=1 proc=CPU:0:1 targets=CPU:0:1;CPU:0:0 "
        "reqs=SYSMEM:0:0:XYF:==64:affine:keep|NONE|SYSMEM:0:0:FYX:-:affine:collect\n"
        "MAPGYM map t=0.6 task=main group=0 point=- proc=CPU:0:0 targets=CPU:0:0 reqs=\n"
    )
    first, top = parse_mappings(GPU_NOISE + err)
    assert first.task == "stencil" and first.point == (1,) and first.group == 0
    assert first.processor == ("CPU", 0, 1)
    assert first.targets == (("CPU", 0, 1), ("CPU", 0, 0))
    r0, r1, r2 = first.requirements
    assert isinstance(r0, LoggedInstance) and r0.soa and not r0.c_order
    assert r0.alignment == "==64" and not r0.collected and r0.memory == ("SYSMEM", 0, 0)
    assert r1 == "NONE"
    assert isinstance(r2, LoggedInstance) and not r2.soa and r2.c_order and r2.collected
    assert top.point is None and top.requirements == ()


def test_one_dimensional_orderings():
    soa = LoggedInstance("SYSMEM", 0, 0, "XF", "-", "affine", False)
    aos = LoggedInstance("SYSMEM", 0, 0, "FX", "-", "red", False)
    assert soa.soa and not aos.soa
    assert not soa.c_order and not aos.c_order  # meaningless in 1-D


def test_success_needs_exit_zero_and_the_elapsed_line():
    assert diagnose(outcome(OK_STDOUT, GPU_NOISE), time_limit=10, memory_limit=None) is None
    status, error = diagnose(outcome("check completed successfully\n", GPU_NOISE),
                             time_limit=10, memory_limit=None)
    assert (status, error.code) == ("runtime_error", "E-NO-OUTPUT")


def test_timeout_and_memory():
    status, error = diagnose(outcome(returncode=-9, timed_out=True), time_limit=7,
                             memory_limit=None)
    assert (status, error.code, error.kind) == ("timeout", "E-TIMEOUT", "execute")
    assert "7 s" in error.message
    status, error = diagnose(outcome(returncode=-9, memory=True), time_limit=7,
                             memory_limit=512 * 2**20)
    assert (status, error.code) == ("runtime_error", "E-OOM")
    assert "512 MiB" in error.message


def test_stride_assertion_is_the_layout_error_of_the_spec():
    err = GPU_NOISE + "Assertion failed: stride does not match expected value.\n"
    status, error = diagnose(outcome("", err, returncode=-6), time_limit=10, memory_limit=None)
    assert (status, error.code, error.message) == ("runtime_error", "E-LAYOUT-STRIDE",
                                                   STRIDE_MESSAGE)
    assert error.feedback() == "Execution Error: " + STRIDE_MESSAGE


@pytest.mark.parametrize("argument", [8, 10, 13])
def test_any_dgemm_argument_the_blas_rejects_is_the_layout_error(argument):
    # OpenBLAS names the leading dimension it rejects: lda (8) when every operand is in Fortran
    # order, ldb (10) or ldc (13) when only B or only A is.
    line = f" ** On entry to DGEMM parameter number {argument:2d} had an illegal value"
    status, error = diagnose(outcome("", GPU_NOISE + line + "\n", returncode=1), time_limit=10,
                             memory_limit=None)
    assert (status, error.code) == ("runtime_error", "E-LAYOUT-BLAS")
    assert error.message == f"DGEMM parameter number {argument} had an illegal value"
    assert error.raw == line.strip()


def test_failed_allocation_is_out_of_memory_with_the_legion_message():
    line = ("[0 - 7f] 0.1 {5}{default_mapper}: Default mapper failed allocation of size 800 bytes "
            "for region requirement 0 of task stencil (UID 12) in memory 1e00000000000000 for "
            "processor 1d00000000000001.")
    _status, error = diagnose(outcome("", line, returncode=-6), time_limit=10, memory_limit=None)
    assert error.code == "E-OOM"
    assert error.message.startswith("Default mapper failed allocation of size 800 bytes")


def test_mapper_plan_mismatch_is_an_internal_error():
    err = "MAPGYM error: the plan names CPU processor 3 of node 0, which this Legion run ...\n"
    _status, error = diagnose(outcome("", err, returncode=-6), time_limit=10, memory_limit=None)
    assert (error.code, error.message) == ("E-INTERNAL", "Internal error")
    assert error.raw.startswith("MAPGYM error")


def test_legion_errors_assertions_and_crashes():
    legion = GPU_NOISE + "[0 - 7f] 0.2 {5}{runtime}: [error 94] LEGION ERROR: bad region\n"
    _, error = diagnose(outcome("", legion, returncode=1), time_limit=10, memory_limit=None)
    assert (error.code, error.message) == ("E-LEGION", "[error 94] LEGION ERROR: bad region")
    check = "Assertion failed: test failed: input mismatch\n"
    _, error = diagnose(outcome("", check, returncode=-6), time_limit=10, memory_limit=None)
    assert (error.code, error.message) == ("E-ASSERTION", check.strip())
    _, error = diagnose(outcome("", GPU_NOISE + "last words\n", returncode=-11), time_limit=10,
                        memory_limit=None)
    assert (error.code, error.message) == ("E-CRASH", "the program was killed by SIGSEGV")
    assert "last words" in error.raw
    _, error = diagnose(outcome("", "", returncode=2), time_limit=10, memory_limit=None)
    assert error.message == "the program exited with status 2"


def test_busy_times_are_clipped_to_the_measured_window():
    from mapper_gym.legion.output import busy_times, measured_window, parse_runs

    err = (
        "MAPGYM ran task=stencil point=0 proc=CPU:0:0 start=1000 end=3000\n"  # half inside
        "MAPGYM ran task=stencil point=1 proc=CPU:0:1 start=2500 end=3500\n"  # all inside
        "MAPGYM ran task=increment point=0 proc=CPU:0:0 start=9000 end=9500\n"  # after
        "MAPGYM ran task=main point=- proc=CPU:0:0 start=0 end=10000\n"  # inner: skipped
        "MAPGYM timing init=0.000001 elapsed=0.000003 window=2000,5000\n"
    )
    assert measured_window(err) == (2000, 5000)
    runs = parse_runs(err)
    assert runs[3].point is None and runs[0].processor == ("CPU", 0, 0)
    per_proc, per_task = busy_times(err, skip=["main"])
    assert per_proc == pytest.approx({"n0.CPU0": 1000e-9, "n0.CPU1": 1000e-9})
    assert per_task == pytest.approx({"stencil": 2000e-9})
    # an older program without the window: everything counts
    whole, _ = busy_times(err.replace(" window=2000,5000", ""), skip=["main"])
    assert whole == pytest.approx({"n0.CPU0": 2500e-9, "n0.CPU1": 1000e-9})
