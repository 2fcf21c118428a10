"""The Django admin over the DynamoDB data.

Django's admin is built for ORM models; ours are PynamoDB models. So this package keeps the admin's
site, sign-in, templates and styles, and each app's `admin.py` registers plain views (built on
`views.py` here) that read through the app's selectors and write through its services, exactly as
the API does. Who may sign in is the accounts app's to say (accounts/admin_sign_in.py).
"""
