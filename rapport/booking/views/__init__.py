"""Booking pages: the client's picker, booking form and e-mailed links (``client``), the
therapist's practice pages (``practice``), and what both share (``common``).

Views parse input, fetch through ``access``, call a service or ``slots``, and render. Times are
stored in UTC and shown in the viewer's zone: the client's (``?tz=``, else the one they booked
in) on client pages, the therapist's own on practice pages.
"""
