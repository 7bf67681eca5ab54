"""Member activity: recording, dashboards, inactive-member housekeeping, the weekly digest."""
