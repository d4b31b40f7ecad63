"""Image references as the kubelet reads them: `github.com/distribution/reference` (v0.6, which
1.32 vendors) `ParseNormalizedNamed`, the kubelet's `parsers.ParseImageName` and
`applyDefaultImageTag` (`pkg/kubelet/images/image_manager.go`).

`nginx` names `docker.io/library/nginx` with the tag `latest`; `127.0.0.1:5000/app:1` names
`127.0.0.1:5000/app` with the tag `1`. An image the grammar refuses (`MyApp:Latest`) is the
kubelet's `InvalidImageName`, with distribution's words in the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from minikubelet.api.gofmt import go_quote

__all__ = [
    "ImageRef",
    "ImageRefError",
    "apply_default_image_tag",
    "parse_image_name",
    "parse_normalized_named",
]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX = 255  # RepositoryNameTotalLengthMax

# regexp.go, with Go's ASCII `\w`.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN_NAME}|\[(?:[a-fA-F0-9:]+)\])"
_DOMAIN_AND_PORT = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_NAME = rf"(?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME}"
_REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$", re.ASCII)
_ANCHORED_NAME = re.compile(rf"^(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})$", re.ASCII)
_IDENTIFIER = re.compile(r"^[a-f0-9]{64}$")
_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}  # go-digest's available algorithms


class ImageRefError(ValueError):
    """The reference does not parse; str is distribution's (or the kubelet's) message."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """`Named.Name()`: `docker.io/library/nginx`."""
        return f"{self.domain}/{self.path}" if self.domain else self.path


def _split_docker_domain(name: str) -> tuple[str, str]:
    """`splitDockerDomain` (v0.6): familiar names go to Docker Hub's `library/`."""
    maybe_domain, sep, maybe_remote = name.partition("/")
    if not sep:
        return DEFAULT_DOMAIN, OFFICIAL_PREFIX + name
    if maybe_domain == "localhost":
        domain, remote = maybe_domain, maybe_remote
    elif maybe_domain == LEGACY_DEFAULT_DOMAIN:
        domain, remote = DEFAULT_DOMAIN, maybe_remote
    elif any(c in maybe_domain for c in ".:") or maybe_domain.lower() != maybe_domain:
        domain, remote = maybe_domain, maybe_remote
    else:
        domain, remote = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in remote:
        remote = OFFICIAL_PREFIX + remote
    return domain, remote


def _check_digest(digest: str) -> None:
    """go-digest `Digest.Validate`, for the algorithms it registers."""
    algorithm, _, encoded = digest.partition(":")
    size = _DIGEST_SIZES.get(algorithm)
    if size is None:
        raise ImageRefError("unsupported digest algorithm")
    if len(encoded) != size * 2:
        raise ImageRefError("invalid checksum digest length")
    if not re.fullmatch(r"[a-f0-9]+", encoded):
        raise ImageRefError("invalid checksum digest format")


def _parse(text: str) -> ImageRef:
    """`reference.Parse`."""
    if not text:
        raise ImageRefError("repository name must have at least one component")
    match = _REFERENCE.match(text)
    if match is None:
        lower = text.lower()
        if lower != text and _REFERENCE.match(lower):
            raise ImageRefError("repository name must be lowercase")
        raise ImageRefError("invalid reference format")
    name, tag, digest = match.group(1), match.group(2) or "", match.group(3) or ""
    parts = _ANCHORED_NAME.match(name)
    domain, path = (parts.group(1) or "", parts.group(2)) if parts else ("", name)
    if len(path) > NAME_MAX:
        raise ImageRefError(f"repository name must not be more than {NAME_MAX} characters")
    if digest:
        _check_digest(digest)
    return ImageRef(domain, path, tag, digest)


def parse_normalized_named(text: str) -> ImageRef:
    """`ParseNormalizedNamed`: a familiar name made fully qualified."""
    if _IDENTIFIER.match(text):
        raise ImageRefError(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = _split_docker_domain(text)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise ImageRefError(
            f"invalid reference format: repository name ({remote}) must be lowercase"
        )
    return _parse(f"{domain}/{remainder}")


def parse_image_name(image: str) -> tuple[str, str, str]:
    """`parsers.ParseImageName`: (repoToPull, tag, digest); `latest` when neither is given."""
    try:
        named = parse_normalized_named(image)
    except ImageRefError as exc:
        raise ImageRefError(f"couldn't parse image name {go_quote(image)}: {exc}") from exc
    tag = named.tag
    if not tag and not named.digest:
        tag = DEFAULT_TAG
    return named.name, tag, named.digest


def apply_default_image_tag(image: str) -> str:
    """`applyDefaultImageTag`: `nginx` becomes `nginx:latest`; the name is kept as written
    (not made `docker.io/library/...`), so the CRI sees the user's spelling."""
    _, tag, digest = parse_image_name(image)
    if not digest and tag and not image.endswith(":" + tag):
        image = f"{image}:{tag}"
    return image
