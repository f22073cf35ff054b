"""The storage of collected static files under `casedesk serve`: hashed names and gzip
copies (WhiteNoise), without following source-map comments. Shipped minified libraries
(htmx, dagre) name source maps that are not shipped; Django's post-processing would
refuse to collect them, and browsers only ask for a map when developer tools are open."""

from __future__ import annotations

from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]


class StaticFiles(CompressedManifestStaticFilesStorage):
    patterns = (
        (
            "*.css",
            tuple(
                p
                for p in dict(HashedFilesMixin.patterns)["*.css"]
                if "sourceMappingURL" not in str(p)
            ),
        ),
    )
