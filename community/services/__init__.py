"""Every write of the community core, one function per use case (``<entity>_<action>``)."""
