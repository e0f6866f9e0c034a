"""Uploaded log files are streamed to a temporary file and bounded: past ``CEK_USAGE_MAX_UPLOAD_BYTES`` the upload
stops (the request's body is not read further) and the view answers that the file is too large. Nothing of a
stopped upload is kept; a kept one lives in storage only until its ingestion ends."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

TOO_LARGE = "too_large"


class BoundedUploadHandler(TemporaryFileUploadHandler):
    """Django's temporary-file handler (never in memory) that stops past the bound."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = settings.CEK_USAGE_MAX_UPLOAD_BYTES
        # A body announced larger than the bound (the multipart envelope aside) stops at its first chunk: the
        # parser handles StopUpload from there, not from here.
        self.received = self.limit + 1 if content_length and content_length > self.limit + 64 * 1024 else 0
        return None

    def new_file(self, *args, **kwargs):
        if self.received > self.limit:
            self._stop()
        return super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self._stop()
        return super().receive_data_chunk(raw_data, start)

    def _stop(self):
        self.request.usage_upload_refused = TOO_LARGE
        raise StopUpload(connection_reset=True)


def bound_uploads(request) -> None:
    """Use the bounded handler for this request (before its body is read)."""
    request.upload_handlers = [BoundedUploadHandler(request)]


def too_large_message() -> str:
    return (
        f"The file is larger than {settings.CEK_USAGE_MAX_UPLOAD_BYTES / 1048576:,.0f} MB "
        "(CEK_USAGE_MAX_UPLOAD_BYTES). Split it (CloudTrail delivers one file per few minutes), or aggregate it where "
        "it lives and upload the usage CSV."
    )
