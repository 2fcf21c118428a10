"""The Django admin over the DynamoDB data.

Django's admin is built for ORM models; ours are PynamoDB models. So this package keeps the admin's
site, templates and styles, and each app's `admin.py` registers plain views that read through the
app's selectors and write through its services, exactly as the API does. The views are built from
the pieces here, each in the module named for it: `site` (the site and its sections), `urls`
(admin_path, admin_url), `params` (query parameters), `pages` (rendering, confirmations), `lists`
(list pages), `forms` (add and change pages: form, API serializer, service, redirect), `panels`
(tables one app adds to another's page) and `times` (times shown and typed on the university's clock,
UNIVERSITY_TIME_ZONE). Who may sign in is the accounts app's to say (accounts/admin_sign_in.py).
"""
