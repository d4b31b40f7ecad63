"""Image references: distribution/reference v0.6 `ParseNormalizedNamed` (normalize_test.go),
the kubelet's `parsers.ParseImageName` (parsers_test.go `TestParseImageName`) and
`applyDefaultImageTag` (image_manager_test.go `TestApplyDefaultImageTag`)."""

from __future__ import annotations

import pytest

from minikubelet.node.imageref import (
    ImageRefError,
    apply_default_image_tag,
    parse_image_name,
    parse_normalized_named,
)

SHA = "sha256:" + "e" * 64


@pytest.mark.parametrize(
    ("image", "repo", "tag", "digest"),
    [
        ("root", "docker.io/library/root", "latest", ""),
        ("root:tag", "docker.io/library/root", "tag", ""),
        (f"root@{SHA}", "docker.io/library/root", "", SHA),
        ("user/repo", "docker.io/user/repo", "latest", ""),
        ("user/repo:tag", "docker.io/user/repo", "tag", ""),
        ("url:5000/repo", "url:5000/repo", "latest", ""),
        ("url:5000/repo:tag", "url:5000/repo", "tag", ""),
        (f"url:5000/repo@{SHA}", "url:5000/repo", "", SHA),
        (f"root:tag@{SHA}", "docker.io/library/root", "tag", SHA),
        ("index.docker.io/nginx", "docker.io/library/nginx", "latest", ""),
        ("localhost/app:1", "localhost/app", "1", ""),
        ("127.0.0.1:5000/private:1", "127.0.0.1:5000/private", "1", ""),
        ("[::1]:5000/app", "[::1]:5000/app", "latest", ""),
    ],
)
def test_parse_image_name(image: str, repo: str, tag: str, digest: str) -> None:
    assert parse_image_name(image) == (repo, tag, digest)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (
            "MyApp:Latest",
            'couldn\'t parse image name "MyApp:Latest": invalid reference format: '
            "repository name (library/MyApp) must be lowercase",
        ),
        (
            "ROOT",
            'couldn\'t parse image name "ROOT": invalid reference format: '
            "repository name (library/ROOT) must be lowercase",
        ),
        ("http://root", 'couldn\'t parse image name "http://root": invalid reference format'),
        ("repo:", 'couldn\'t parse image name "repo:": invalid reference format'),
        ("a b", 'couldn\'t parse image name "a b": invalid reference format'),
        (
            "e" * 64,
            f'couldn\'t parse image name "{"e" * 64}": invalid repository name ({"e" * 64}), '
            "cannot specify 64-byte hexadecimal strings",
        ),
        (
            "repo@sha256:abc",
            'couldn\'t parse image name "repo@sha256:abc": invalid reference format',
        ),
        (
            "repo@sha256:" + "a" * 40,
            f'couldn\'t parse image name "repo@sha256:{"a" * 40}": invalid checksum digest length',
        ),
        (
            "repo@md5:" + "a" * 32,
            f'couldn\'t parse image name "repo@md5:{"a" * 32}": unsupported digest algorithm',
        ),
        (
            "Registry.Example/App",
            'couldn\'t parse image name "Registry.Example/App": invalid reference format: '
            "repository name (App) must be lowercase",
        ),
    ],
)
def test_invalid_names(image: str, message: str) -> None:
    with pytest.raises(ImageRefError) as caught:
        parse_image_name(image)
    assert str(caught.value) == message


def test_uppercase_domain_is_allowed() -> None:
    """Only the path must be lower case: an upper-case first part is taken as a domain."""
    assert parse_normalized_named("Registry.Example/app").name == "Registry.Example/app"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("root", "root:latest"),
        ("root:tag", "root:tag"),
        (f"root@{SHA}", f"root@{SHA}"),
        (f"root:latest@{SHA}", f"root:latest@{SHA}"),
        ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"),
    ],
)
def test_apply_default_image_tag(image: str, expected: str) -> None:
    assert apply_default_image_tag(image) == expected
