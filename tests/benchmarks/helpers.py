"""Structural checks every application model must pass (shared by the per-app tests)."""

from __future__ import annotations

import itertools
import math

from mapper_gym.appmodel import AppModel, Launch, Privilege


def check_pieces_tile_regions(app: AppModel) -> None:
    """Pieces of every region are disjoint boxes that exactly cover the region."""
    for region in app.regions:
        assert sum(p.elements for p in region.pieces) == region.elements, region.name
        for p in region.pieces:
            assert len(p.bounds) == region.dims, (region.name, p.label)
            assert math.prod(hi - lo for lo, hi in p.bounds) == p.elements
            for (lo, hi), extent in zip(p.bounds, region.shape, strict=True):
                assert 0 <= lo <= hi <= extent
        if len(region.pieces) <= 400:
            for a, b in itertools.combinations(region.pieces, 2):
                overlap = all(min(ah, bh) > max(al, bl)
                              for (al, ah), (bl, bh) in zip(a.bounds, b.bounds, strict=True))
                assert not overlap, (region.name, a.label, b.label)


def check_requirements(app: AppModel) -> None:
    """Every point's pieces lie in its requirement's region; data-less requirements and
    work accesses agree; inner tasks only launch."""
    for launch, _ in app.walk(app.all_steps()):
        task = app.task(launch.task)
        assert len(app.names_of(launch)) == len(task.requirements)
        for pt in launch.points:
            assert len(pt.pieces) == len(task.requirements)
            reqs = app.requirements_of(launch)
            for req, ids in zip(reqs, pt.pieces, strict=True):
                assert all(0 <= i < len(app.region(req.region).pieces) for i in ids)
                assert list(ids) == sorted(set(ids))
            if pt.work is not None and pt.work.accesses:
                for req, acc in zip(reqs, pt.work.accesses, strict=True):
                    if req.privilege is Privilege.NONE:
                        assert acc == ()
                    for a in acc:
                        assert a.bytes >= 0 and a.count >= 0


def check_app_info(app: AppModel) -> None:
    info = app.app_info()
    assert info.name == app.name
    assert info.task_names() == tuple(t.name for t in app.tasks)
    for t in app.tasks:
        ti = info.task(t.name)
        assert ti is not None
        assert len(ti.regions) == len(t.requirements)
        assert ti.variants == t.variants and ti.inner == t.inner
        for names, req in zip(ti.regions, t.requirements, strict=True):
            assert set(req.names) <= set(names)
            assert all(n.isidentifier() for n in names), names


def check_model(app: AppModel) -> None:
    app.validate()
    check_pieces_tile_regions(app)
    check_requirements(app)
    check_app_info(app)


def launches_of(app: AppModel, task: str, steps=None) -> list[Launch]:
    steps = app.all_steps() if steps is None else steps
    return [launch for launch, _ in app.walk(steps) if launch.task == task]
