"""Services of the lucky draws: every write and every permission check."""

from games.services.drawing import draw_perform, draw_redraw_expired, draws_sweep, winner_claim
from games.services.draws import draw_create, draw_join, draw_leave

__all__ = [
    "draw_create",
    "draw_join",
    "draw_leave",
    "draw_perform",
    "draw_redraw_expired",
    "draws_sweep",
    "winner_claim",
]
