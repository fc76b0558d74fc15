"""HTML forms of the products app: shape only; the services hold the rules.

``registry`` has the products, teams, people and memberships forms; ``outcomes`` the outcome,
key-result and measurement forms; ``roadmap`` the hypothesis and roadmap forms.
"""

from products.forms.outcomes import *  # noqa: F403
from products.forms.registry import *  # noqa: F403
from products.forms.registry import __all__ as _registry_all
from products.forms.roadmap import *  # noqa: F403

__all__ = list(_registry_all)
