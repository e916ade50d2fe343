"""The native build: cached, keyed by its inputs, and the stand-in CUDA driver behaves as a
driver without devices."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import time

import pytest

from mapper_gym.legion.apps import REAL_APPS
from mapper_gym.legion.build import STANDIN_NAME, build, build_key, native_dir
from mapper_gym.legion.wheel import LEGATE_VERSION, WheelUnavailable, find_runtime


def test_runtime_files_of_the_wheel(native):
    files = find_runtime()
    assert files.version == LEGATE_VERSION
    assert (files.include_dirs[0] / "legion.h").is_file()
    assert (files.include_dirs[1] / "default_mapper.h").is_file()
    assert (files.lib_dir / "liblegion-legate.so.1").exists()


def test_a_wrong_wheel_version_is_reported_with_the_fix(native, monkeypatch):
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "version", lambda name: "25.1.0")
    with pytest.raises(WheelUnavailable, match=r"python -m mapper_gym\.legion install"):
        find_runtime()


def test_second_build_is_served_from_the_cache(native):
    marker = native.directory / "build.json"
    before = marker.stat().st_mtime
    started = time.monotonic()
    again = build(progress=False)
    assert time.monotonic() - started < 5
    assert again.key == native.key and again.executable == native.executable
    assert marker.stat().st_mtime == before
    assert sorted(json.loads(marker.read_text())["apps"]) == sorted(
        app.program for app in REAL_APPS.values())


def test_the_key_follows_the_sources(native, tmp_path):
    copy = tmp_path / "native"
    shutil.copytree(native_dir(), copy)
    assert build_key(copy) == native.key
    path = copy / "apps" / "stencil.cc"
    path.write_text(path.read_text() + "\n// an edit\n")
    assert build_key(copy) != native.key
    assert build_key(native_dir(), standin=not native.standin_driver) != native.key


def test_the_executable_lists_its_applications(native):
    listed = subprocess.run([str(native.executable), "--list"], capture_output=True, text=True)
    assert listed.returncode == 0
    assert sorted(listed.stdout.split()) == sorted(app.program for app in REAL_APPS.values())
    unknown = subprocess.run([str(native.executable), "no-such-app"], capture_output=True,
                             text=True)
    assert unknown.returncode == 2 and "unknown application" in unknown.stderr


def test_without_a_plan_the_mapper_says_what_the_original_said(native, tmp_path):
    missing = subprocess.run([str(native.executable), "stencil"], capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr.strip() == "Policy file is missing"
    absent = subprocess.run([str(native.executable), "stencil", "-mapgym:plan",
                             str(tmp_path / "nothing.plan")], capture_output=True, text=True)
    assert absent.returncode == 1
    assert absent.stderr.strip() == "Mapping policy file does not exist"
    bad = tmp_path / "bad.plan"
    bad.write_text("mapper-gym-plan 1\ntask stencil CPU\n")
    rejected = subprocess.run([str(native.executable), "stencil", "-mapgym:plan", str(bad)],
                              capture_output=True, text=True)
    assert rejected.returncode == 1 and "bad task line" in rejected.stderr


def test_the_standin_driver_reports_no_device(native):
    if not native.standin_driver:
        pytest.skip("a real NVIDIA driver is installed here; the stand-in is not built")
    lib = ctypes.CDLL(str(native.directory / "lib" / STANDIN_NAME))
    lib.cuInit.argtypes = [ctypes.c_uint]
    assert lib.cuInit(0) == 100
    version, count = ctypes.c_int(), ctypes.c_int(-1)
    assert lib.cuDriverGetVersion(ctypes.byref(version)) == 0 and version.value > 0
    assert lib.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value == 0
    name = ctypes.c_char_p()
    assert lib.cuGetErrorName(100, ctypes.byref(name)) == 0
    assert name.value == b"CUDA_ERROR_NO_DEVICE"
    pointer = ctypes.c_void_p()
    lib.cuGetProcAddress_v2.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                                        ctypes.c_int, ctypes.c_ulonglong,
                                        ctypes.POINTER(ctypes.c_int)]
    for symbol in (b"cuGetErrorName", b"cuInit", b"cuCtxCreate_v2"):
        status = ctypes.c_int(-1)
        assert lib.cuGetProcAddress_v2(symbol, ctypes.byref(pointer), 12000, 0,
                                       ctypes.byref(status)) == 0
        assert pointer.value and status.value == 0
    # anything else answers "no device"
    no_device = ctypes.CFUNCTYPE(ctypes.c_int)(pointer.value)
    assert no_device() == 100
    assert ctypes.c_int.in_dll(lib, "mapper_gym_cuda_standin").value == 1
