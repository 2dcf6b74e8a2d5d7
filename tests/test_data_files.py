"""folder:PATH and torchvision datasets, on files the tests write (never the network)."""

import logging
import os
import struct
import urllib.error

import pytest
import torch
import torchvision
from PIL import Image

from genlat.config import TrainConfig
from genlat.data import OFFLINE_ENV, build_source
from genlat.errors import DataError


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv(OFFLINE_ENV, "1")


@pytest.fixture
def folder(tmp_path):
    """7 readable images in nested folders, mixed sizes and modes, plus a corrupt one and a text file."""
    root = tmp_path / "imgs"
    (root / "a" / "b").mkdir(parents=True)
    Image.new("RGB", (40, 30), (255, 255, 255)).save(root / "white.png")
    Image.new("RGB", (50, 70), (255, 0, 0)).save(root / "a" / "red.JPG")
    Image.new("L", (64, 64), 0).save(root / "a" / "black.bmp")
    Image.new("RGBA", (33, 90), (0, 0, 255, 128)).save(root / "a" / "b" / "blue.png")
    palette = Image.new("P", (20, 20), 1)
    palette.putpalette([0, 0, 0, 0, 255, 0])  # index 1 = green
    palette.save(root / "a" / "b" / "palette.gif")
    Image.effect_noise((48, 48), 40).save(root / "a" / "b" / "noise.webp")
    Image.effect_noise((31, 17), 60).convert("RGB").save(root / "a" / "b" / "noise.tiff")
    (root / "a" / "broken.png").write_bytes(os.urandom(300))
    (root / "notes.txt").write_text("not an image")
    return root


def cfg(dataset, **kw):
    return TrainConfig(dataset=dataset, **{"image_size": 32, "batch_size": 2, **kw})


@pytest.mark.parametrize("channels", [0, 1, 3])
def test_folder_loads_readable_images_and_warns_once(folder, caplog, channels):
    with caplog.at_level(logging.WARNING):
        src = build_source(cfg(f"folder:{folder}", channels=channels))
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(f"skipped 1 unreadable image file(s) in {folder}")
    assert "broken.png" in warnings[0]
    assert len(src) == 7 and src.channels == (1 if channels == 1 else 3)
    assert src.steps_per_epoch(2, 1) == 3
    batches = list(src.batches(epoch=0, batch_size=2, rank=0, world_size=1, device="cpu"))
    assert len(batches) == 3
    for x in batches:
        assert x.shape == (2, src.channels, 32, 32) and x.dtype == torch.float32
        assert -1 <= x.min() and x.max() <= 1
    # The images themselves: white is +1 everywhere, black -1, red is (1, -1, -1) in RGB.
    by_name = {os.path.basename(p): i for i, p in enumerate(src.dataset.paths)}
    assert torch.all(src.dataset[by_name["white.png"]] == 1)
    assert torch.all(src.dataset[by_name["black.bmp"]] == -1)
    if src.channels == 3:
        red = src.dataset[by_name["red.JPG"]].mean(dim=(1, 2))
        assert red[0] > 0.95 and red[1] < -0.9 and red[2] < -0.9


def test_folder_epochs_are_deterministic_and_shards_disjoint(folder):
    src = build_source(cfg(f"folder:{folder}", epoch_size=6))
    assert len(src) == 6  # capped: every 7/6-th image, the same in every run
    one = list(src.batches(epoch=1, batch_size=1, rank=0, world_size=2))
    assert all(torch.equal(a, b) for a, b in zip(one, src.batches(epoch=1, batch_size=1, rank=0, world_size=2)))
    two = list(src.batches(epoch=1, batch_size=1, rank=1, world_size=2))
    assert len(one) == len(two) == 3
    assert not any(torch.equal(a, b) for a in one for b in two)  # the test images are all different


def test_folder_errors_are_one_line_data_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.png").write_bytes(b"not a png")
    (tmp_path / "file.png").write_bytes(b"")
    cases = {
        "missing": "does not exist",
        "file.png": "is not a folder",
        "empty": "no image files",
        "junk": "none of the 1 image files",
    }
    for name, message in cases.items():
        with pytest.raises(DataError, match=message) as e:
            build_source(cfg(f"folder:{tmp_path / name}"))
        assert "\n" not in str(e.value) and str(tmp_path / name) in str(e.value)


def test_mnist_missing_is_a_data_error_offline(tmp_path):
    with pytest.raises(DataError, match="forbids downloading") as e:
        build_source(cfg("mnist", data_dir=str(tmp_path)))
    assert os.path.join(str(tmp_path), "MNIST", "raw") in str(e.value) and "\n" not in str(e.value)


def test_mnist_download_failure_is_a_data_error(tmp_path, monkeypatch):
    monkeypatch.delenv(OFFLINE_ENV)

    def no_network(self):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", no_network)
    with pytest.raises(DataError, match="could not be downloaded .*URLError.*copy the files into") as e:
        build_source(cfg("mnist", data_dir=str(tmp_path)))
    assert "\n" not in str(e.value)


def write_idx(path, magic, array: torch.Tensor):
    """MNIST's idx format: big-endian magic (2051 images, 2049 labels), the dimensions, then uint8 data."""
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.to(torch.uint8).numpy().tobytes())


def fake_mnist(root, n=10):
    """n training images, image i filled with the value 20 * i (so a batch tells which images it holds)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = (torch.arange(n) * 20).view(n, 1, 1).expand(n, 28, 28)
    for split in ("train", "t10k"):
        write_idx(raw / f"{split}-images-idx3-ubyte", 2051, images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", 2049, torch.arange(n) % 10)
    return raw


def test_fake_mnist_loads_through_torchvision(tmp_path):
    fake_mnist(tmp_path)
    src = build_source(cfg("mnist", data_dir=str(tmp_path), batch_size=4))
    assert src.name == "mnist" and src.channels == 1 and len(src) == 10
    batches = list(src.batches(epoch=0, batch_size=4, rank=0, world_size=1, device="cpu"))
    assert len(batches) == 2
    seen = []
    for x in batches:
        assert x.shape == (4, 1, 32, 32) and x.dtype == torch.float32
        assert torch.all(x == x[:, :, :1, :1])  # constant images stay constant
        seen += ((x[:, 0, 0, 0] + 1) / 2 * 255 / 20).round().long().tolist()
    assert len(set(seen)) == 8 and set(seen) <= set(range(10))
    rgb = build_source(cfg("mnist", data_dir=str(tmp_path), channels=3, epoch_size=5))
    assert len(rgb) == 5 and rgb.subset.tolist() == [0, 2, 4, 6, 8]
    assert next(rgb.batches(0, 2)).shape == (2, 3, 32, 32)


def test_corrupt_mnist_is_a_data_error(tmp_path):
    raw = fake_mnist(tmp_path)
    (raw / "train-images-idx3-ubyte").write_bytes(os.urandom(100))
    with pytest.raises(DataError, match="could not be read.*replace them with intact copies") as e:
        build_source(cfg("mnist", data_dir=str(tmp_path)))
    assert "\n" not in str(e.value)


def undecodable_png(path, size=(24, 24)) -> None:
    """A PNG whose chunk checksums are right (so verify() passes) but whose pixel data is not a
    zlib stream (so decoding fails): the kind of file only loading finds."""
    import io
    import zlib

    buf = io.BytesIO()
    Image.new("RGB", size, (9, 9, 9)).save(buf, "PNG")
    data = buf.getvalue()
    at = data.index(b"IDAT") - 4
    length = struct.unpack(">I", data[at : at + 4])[0]
    junk = bytes(range(length % 256)) * (length // 256) + bytes(length % 256)
    chunk = b"IDAT" + junk[:length]
    path.write_bytes(
        data[:at] + data[at : at + 4] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[at + 12 + length :]
    )


@pytest.mark.parametrize("workers", [0, 2])
def test_a_png_that_verifies_but_does_not_decode_is_skipped_and_counted(tmp_path, caplog, workers):
    root = tmp_path / "imgs"
    root.mkdir()
    for i in range(7):
        Image.new("RGB", (24, 24), (30 * i, 0, 0)).save(root / f"ok{i}.png")
    undecodable_png(root / "bad.png")
    with caplog.at_level(logging.WARNING):
        src = build_source(cfg(f"folder:{root}", num_workers=workers, batch_size=4))
        assert len(src) == 8  # it passed the cheap check
        for epoch in range(2):
            batches = list(src.batches(epoch=epoch, batch_size=4, rank=0, world_size=1, device="cpu"))
            assert [b.shape[0] for b in batches] == [4, 4]  # the next image took its place
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "bad.png" in warnings[0] and "1 so far" in warnings[0]  # once, not per epoch
    assert src.undecodable == {str(root / "bad.png")}
