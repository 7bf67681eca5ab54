"""Private file storage: files that no URL serves (member data such as survey exports).

``PrivateFileSystemStorage`` keeps files under ``settings.EXPORT_ROOT``, a directory outside
``MEDIA_ROOT`` and ``STATIC_ROOT``, and has no URL at all: a file leaves the server only
through a view that checks who asks (the admin's export download). It is the ``exports``
storage alias (``STORAGES``), so production may swap in a private bucket.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property


@deconstructible(path="community.storage.PrivateFileSystemStorage")
class PrivateFileSystemStorage(FileSystemStorage):
    """A ``FileSystemStorage`` rooted at ``EXPORT_ROOT`` (unless ``location`` is given) whose
    files have no URL and are readable by the server's user only."""

    def __init__(self, location=None, **kwargs):
        kwargs.pop("base_url", None)
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(location=location, **kwargs)

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.EXPORT_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "EXPORT_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("Private files have no URL; they are streamed by a view that checks.")
