"""A therapist joins: the onboarding steps that build a profile (each its own page, saved at
every step, resumable), and the same pages for editing it after it goes live.

- ``steps``: the steps in order, and which are done;
- ``services``: one function per change, each in one transaction;
- ``photos``: the photo upload, decoded and re-encoded safely;
- ``forms`` and ``views``: the pages (under /practice/profile/, behind the second factor).
"""
