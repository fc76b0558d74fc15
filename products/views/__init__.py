"""Pages of the registry: products, teams, people, disciplines and team memberships.

Thin views: read through the selectors, write through the services (which hold the rules), render a
page or, for an htmx request, the fragment that changed. Every write also works as a plain form POST
(redirect after success, the full page with errors after a refusal). The flows every kind of row
shares (lists, create, edit, archive, restore) live in ``portfolio.common.views``; one module here
per kind of row names its selectors, forms, services and words.
"""
