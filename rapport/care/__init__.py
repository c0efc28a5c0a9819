"""Care: engagements, check-ins, alerts, the crisis path and graduation (being built).

The first piece is `rapport.care.instruments`, a pure library that reads instrument definitions
and scores answers; the app's models, pages and API follow on top of it.
"""
