"""Resolve the Delta jars once, at set-up, so no job touches the network at start."""
from __future__ import annotations

import hashlib
import sys
import urllib.request
from pathlib import Path

import yaml


def jar_url(repository: str, coord: str) -> tuple[str, str]:
    """Maven coordinate group:artifact:version -> (url, file name)."""
    group, artifact, version = coord.split(":")
    name = f"{artifact}-{version}.jar"
    return f"{repository}/{group.replace('.', '/')}/{artifact}/{version}/{name}", name


def fetch(conf_file: Path, dest: Path) -> list[Path]:
    """Download every jar of conf/jars.yaml into dest, verified against Maven's .sha1."""
    spec = yaml.safe_load(conf_file.read_text())
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for coord in spec["jars"]:
        url, name = jar_url(spec["repository"], coord)
        target = dest / name
        if not target.exists():
            data = urllib.request.urlopen(url, timeout=120).read()
            want = urllib.request.urlopen(url + ".sha1", timeout=60).read().decode().split()[0]
            if hashlib.sha1(data).hexdigest() != want:
                raise SystemExit(f"checksum mismatch for {url}")
            tmp = target.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.rename(target)
            print(f"fetched {name} ({len(data):,} bytes)")
        out.append(target)
    return out


if __name__ == "__main__":
    conf, dest = Path(sys.argv[1]), Path(sys.argv[2])
    fetch(conf, dest)
