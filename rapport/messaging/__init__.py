"""Bounded messaging between a client and their therapist, on the therapist's terms.

See docs/messaging.md: who may write, the contact policy, the limits, the crisis card, and the
daily digest that tells a therapist how many messages wait (never what they say).
"""
