"""The outcomes part of the demo organisation (``manage.py seed_demo``, after ``products.demo``).

Every demo product gets one or two outcomes with two or three key results, a year of monthly
measurements, one to three hypotheses with their status histories, and a now/next/later/done
roadmap whose items mostly name the key results they should move (a few do not: "output without
outcome"). The key results are planned to land in a spread of statuses: most on track, some at
risk, some off track, a few stale (no measurement for two months) and a few new (no data yet).

Dates follow the **anchor**, the first day of the current month. Key-result start and target
dates are whole months from it and measurements fall on the first of each month up to it, so:

- a second run in the same month finds every row as planned and writes nothing;
- a run in a later month moves the key results' dates forward a month per month passed and adds
  the measurement of each new month, so the demo still looks current; the measurements already
  there stay (values are never rewritten or deleted), as does anything a user added.

Rows are matched by product and statement, name or title; existing hypotheses and roadmap items
are left as users left them. Everything is written through the services, as the product's owner
(the ``pm`` user for a product without one), so the history exists; the history rows, hypothesis
status changes and their dates are then set to when the plan says they happened (a measurement is
recorded on its date), so the product timelines read like a year of use.
"""

import datetime
import random
from collections import deque
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.utils import timezone

from products import services
from products.demo import SeedStats
from products.models import (
    ChangeRecord,
    Hypothesis,
    HypothesisStatusChange,
    KeyResult,
    Measurement,
    Outcome,
    Product,
    RoadmapItem,
)
from products.permissions import can_edit_outcomes

ON, AT_RISK, OFF, STALE, NEW = "on_track", "at_risk", "off_track", "stale", "new"
# How far behind the expected progress each planned standing lands (percentage points).
GAPS = {AT_RISK: Decimal("17.5"), OFF: Decimal(38), STALE: Decimal(5)}
SERIES_MONTHS = 12  # a year of monthly measurements (fewer for results started recently)
STALE_MONTHS = 2  # a stale result's last measurement is this many months old


class DemoKeyResult(NamedTuple):
    name: str
    kind: str
    unit: str
    baseline: str
    target: str
    started: int  # months before the anchor
    months: int  # from start to target date
    standing: str  # ON, AT_RISK, OFF, STALE or NEW
    places: int = 0  # decimals the values are written with
    customer_facing: bool | None = None  # None: the default for the kind


class DemoOutcome(NamedTuple):
    statement: str
    key_results: tuple[DemoKeyResult, ...]


class DemoHypothesis(NamedTuple):
    change: str
    expected_outcome: str
    key_result: str | None
    expected_move: str | None
    # (status, days before the anchor, note); the first is the status it was proposed in.
    path: tuple[tuple[str, int, str], ...]
    evidence: str = ""


class DemoItem(NamedTuple):
    title: str
    horizon: str
    key_results: tuple[str, ...] = ()


class DemoPlan(NamedTuple):
    outcomes: tuple[DemoOutcome, ...]
    hypotheses: tuple[DemoHypothesis, ...]
    roadmap: tuple[DemoItem, ...]


K = KeyResult.Kind
KR = DemoKeyResult
Goal = DemoOutcome
Bet = DemoHypothesis
Item = DemoItem


def proposed(days: int) -> tuple[str, int, str]:
    return ("proposed", days, "")


PLANS: dict[str, DemoPlan] = {
    "online-account-opening": DemoPlan(
        (
            Goal(
                "New customers open an account from their phone in one sitting",
                (
                    KR("Applications completed online", K.ADOPTION, "%", "48", "75", 10, 14, ON, 1),
                    KR(
                        "Time to open an account", K.TIME_TO_MARKET, "minutes", "22", "8", 10, 12,
                        AT_RISK, 1, True,
                    ),
                ),
            ),
            Goal(
                "Fewer new customers give up or call us for help",
                (KR("Onboarding NPS", K.NPS, "points", "18", "40", 8, 12, ON),),
            ),
        ),
        (
            Bet(
                "pre-filling the address from the postcode",
                "fewer applicants drop out at the address step",
                "Applications completed online",
                "5",
                (
                    proposed(200),
                    ("testing", 150, "A/B test on 20 % of traffic"),
                    ("validated", 90, "Completion up 6 points in the test group"),
                ),
                "Completion 57 % against 51 % over six weeks; rolled out to everyone.",
            ),
            Bet(
                "letting people save a half-finished application and come back to it",
                "more applications finished within a day",
                "Applications completed online",
                "4",
                (proposed(60), ("testing", 20, "Released to Android users first")),
            ),
            Bet(
                "a video call instead of a branch visit when documents do not match",
                "fewer applicants calling the contact centre",
                "Onboarding NPS",
                "3",
                (proposed(10),),
            ),
        ),
        (
            Item("Save and resume an application", "now", ("Applications completed online",)),
            Item("Account number on screen at once", "now", ("Time to open an account",)),
            Item("Video identification for edge cases", "next", ("Onboarding NPS",)),
            Item("Joint account opening", "next"),
            Item(
                "Open an account inside the banking app",
                "later",
                ("Applications completed online", "Onboarding NPS"),
            ),
            Item("Postcode address lookup", "done", ("Applications completed online",)),
        ),
    ),
    "identity-verification": DemoPlan(
        (
            Goal(
                "Genuine customers pass identity checks without a person in the loop",
                (
                    KR("Checks passed automatically", K.PRODUCTIVITY, "%", "61", "85", 12, 18, OFF, 1),
                    KR(
                        "Manual review cost per check", K.COST_REDUCTION, "EUR", "4.80", "2.50", 9,
                        12, ON, 2,
                    ),
                    KR(
                        "Time to verify identity", K.TIME_TO_MARKET, "minutes", "45", "5", 6, 12,
                        AT_RISK, 0, True,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "a new document-reading supplier",
                "fewer checks falling to manual review",
                "Checks passed automatically",
                "10",
                (
                    proposed(150),
                    ("testing", 100, "Pilot with 10 % of checks"),
                    ("invalidated", 45, "Pass rate unchanged"),
                ),
                "The supplier struggles with older identity cards; no better than today.",
            ),
            Bet(
                "guiding customers to retake a blurry photo",
                "more checks passing the first time",
                "Checks passed automatically",
                "6",
                (proposed(40), ("testing", 12, "Live on iOS")),
            ),
        ),
        (
            Item("Photo quality guidance in the app", "now", ("Checks passed automatically",)),
            Item("Reuse a verified identity from the banking app", "next", ("Time to verify identity",)),
            Item("Switch the sanctions screening provider", "later"),
            Item("Automated proof-of-address check", "done", ("Manual review cost per check",)),
        ),
    ),
    "digital-signing": DemoPlan(
        (
            Goal(
                "Contracts are signed on the day they are sent",
                (
                    KR("Contracts signed within 24 hours", K.ADOPTION, "%", "55", "80", 8, 12, ON, 1),
                    KR(
                        "Paper contracts posted", K.COST_REDUCTION, "per month", "4200", "1000", 12,
                        18, STALE,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "a text-message reminder four hours after the contract is sent",
                "more contracts signed the same day",
                "Contracts signed within 24 hours",
                "8",
                (
                    proposed(120),
                    ("testing", 90, "Reminders for personal loan contracts only"),
                    ("validated", 50, "Same-day signing up from 58 % to 66 %"),
                ),
                "Worked for loans; extended to accounts and policies.",
            ),
        ),
        (
            Item("Text-message reminders", "now", ("Contracts signed within 24 hours",)),
            Item("Sign loan contracts in the app", "next", ("Paper contracts posted",)),
            Item("Qualified e-signatures for business customers", "later"),
            Item("Signing on a tablet in branch", "done", ("Paper contracts posted",)),
        ),
    ),
    "welcome-journeys": DemoPlan(
        (
            Goal(
                "New customers make us their main bank in their first 90 days",
                (
                    KR("Salary paid in within 90 days", K.ADOPTION, "%", "22", "35", 5, 12, AT_RISK, 1),
                    KR("Cards activated within 7 days", K.ADOPTION, "%", "64", "85", 6, 12, ON, 1),
                    KR("Direct debits switched within 90 days", K.ADOPTION, "%", "9", "25", 0, 9, NEW, 1),
                ),
            ),
        ),
        (
            Bet(
                "a first-week checklist in the app",
                "more new customers activating their card",
                "Cards activated within 7 days",
                "10",
                (proposed(30),),
            ),
            Bet(
                "switching direct debits for the customer",
                "more customers making us their main account",
                "Salary paid in within 90 days",
                "4",
                (proposed(80), ("testing", 35, "Concierge test with 200 new customers")),
            ),
        ),
        (
            Item("First-week checklist in the app", "now", ("Cards activated within 7 days",)),
            Item(
                "Current account switch service",
                "next",
                ("Salary paid in within 90 days", "Direct debits switched within 90 days"),
            ),
            Item("Welcome offer experiments", "later", ("Salary paid in within 90 days",)),
        ),
    ),
    "customer-profile": DemoPlan(
        (
            Goal(
                "Customers keep their own details up to date",
                (
                    KR(
                        "Address changes made by customers", K.ADOPTION, "%", "40", "70", 10, 12,
                        ON, 1,
                    ),
                    KR(
                        "Calls about personal details", K.COST_REDUCTION, "calls a month", "9000",
                        "5000", 10, 12, OFF,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "one page showing everything we hold about the customer",
                "fewer calls to change personal details",
                "Calls about personal details",
                "-1500",
                (
                    proposed(100),
                    ("testing", 70, "Released to half of web banking"),
                    ("invalidated", 20, "Calls did not fall"),
                ),
                "Most callers had been locked out of the app, not looking for their details.",
            ),
        ),
        (
            Item("Unlock your account without calling", "now", ("Calls about personal details",)),
            Item("Consent centre", "next"),
            Item("Name change with a document upload", "later", ("Address changes made by customers",)),
            Item("Change of address in the app", "done", ("Address changes made by customers",)),
        ),
    ),
    "instant-payments": DemoPlan(
        (
            Goal(
                "Customers trust instant payments for everything",
                (
                    KR("Payments sent instantly", K.ADOPTION, "%", "70", "95", 12, 18, ON, 1),
                    KR("Payments NPS", K.NPS, "points", "25", "40", 6, 12, ON),
                ),
            ),
            Goal(
                "Instant payments cost less than the old batch payments",
                (
                    KR(
                        "Cost per payment", K.COST_REDUCTION, "EUR cents", "9.0", "4.0", 12, 15,
                        AT_RISK, 1,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "checking the payee's name before the payment is sent",
                "fewer payments to the wrong account",
                "Payments NPS",
                "5",
                (
                    proposed(200),
                    ("testing", 160, "Shown for new payees only"),
                    ("validated", 100, "Misdirected payments down 40 %"),
                ),
                "Complaints about misdirected payments down from 310 to 185 a month.",
            ),
            Bet(
                "pooling scheme fees across the business units",
                "a lower cost per payment",
                "Cost per payment",
                "-1.5",
                (proposed(15),),
            ),
        ),
        (
            Item("Request to pay", "now", ("Payments sent instantly",)),
            Item("Scheme fee renegotiation", "now", ("Cost per payment",)),
            Item("Scheduled instant payments", "next", ("Payments sent instantly",)),
            Item("Cross-border instant payments", "later", ("Payments NPS",)),
            Item("Confirmation of payee", "done", ("Payments NPS",)),
        ),
    ),
    "card-processing": DemoPlan(
        (
            Goal(
                "Card payments just work",
                (
                    KR(
                        "Authorisations approved first time", K.OTHER, "%", "96.5", "98.5", 12, 15,
                        ON, 2, True,
                    ),
                    KR(
                        "Card disputes per 10,000 payments", K.COST_REDUCTION, "disputes", "12",
                        "7", 9, 12, OFF, 1,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "strong-authentication exemptions for low-value payments",
                "fewer genuine card payments declined",
                "Authorisations approved first time",
                "0.8",
                (
                    proposed(140),
                    ("testing", 100, "Exemptions up to EUR 30"),
                    ("validated", 60, "Approvals up 0.9 points, fraud unchanged"),
                ),
            ),
        ),
        (
            Item("Dispute a payment in the app", "now", ("Card disputes per 10,000 payments",)),
            Item("Tokenised cards for mobile wallets", "next", ("Authorisations approved first time",)),
            Item("Replace the card management system", "later"),
            Item("Low-value exemptions", "done", ("Authorisations approved first time",)),
        ),
    ),
    "payment-hub": DemoPlan(
        (
            Goal(
                "Every payment reaches the right scheme the first time",
                (
                    KR(
                        "Payments needing manual repair", K.COST_REDUCTION, "a day", "340", "80",
                        12, 18, ON,
                    ),
                    KR(
                        "Time to connect a new scheme", K.TIME_TO_MARKET, "days", "120", "45", 12,
                        18, AT_RISK,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "structured ISO 20022 addresses on every payment",
                "fewer payments stuck in repair",
                "Payments needing manual repair",
                "-100",
                (proposed(120), ("testing", 60, "SEPA credit transfers first")),
            ),
        ),
        (
            Item("ISO 20022 migration", "now", ("Payments needing manual repair",)),
            Item("Scheme adapters as configuration", "next", ("Time to connect a new scheme",)),
            Item("Real-time payment tracking", "later"),
            Item("Repair queue triage rules", "done", ("Payments needing manual repair",)),
        ),
    ),
    "fraud-monitoring": DemoPlan(
        (
            Goal(
                "Stop fraud without stopping customers",
                (
                    KR("Fraud losses", K.COST_REDUCTION, "EUR k a month", "310", "180", 12, 15, ON),
                    KR(
                        "Genuine payments blocked", K.OTHER, "%", "1.8", "0.8", 9, 12, AT_RISK, 2,
                        True,
                    ),
                    KR(
                        "Alerts handled per analyst a day", K.PRODUCTIVITY, "alerts", "45", "70",
                        6, 12, ON,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "a machine-learning score alongside the rules",
                "fewer genuine payments blocked",
                "Genuine payments blocked",
                "-0.4",
                (
                    proposed(200),
                    ("testing", 150, "Shadow mode on all card payments"),
                    ("validated", 70, "False positives down 35 % in shadow mode"),
                ),
                "Live since the spring; blocked genuine payments falling month on month.",
            ),
            Bet(
                "asking customers to confirm a suspicious payment in the app instead of calling",
                "customers confirming in seconds",
                "Genuine payments blocked",
                "-0.2",
                (proposed(45), ("testing", 10, "For transfers over EUR 1,000")),
            ),
        ),
        (
            Item("Confirm a suspicious payment in the app", "now", ("Genuine payments blocked",)),
            Item("Case management for claims fraud", "next", ("Alerts handled per analyst a day",)),
            Item("Mule account detection", "later", ("Fraud losses",)),
            Item("Machine-learning score in production", "done", ("Fraud losses", "Genuine payments blocked")),
        ),
    ),
    "statements-notifications": DemoPlan(
        (
            Goal(
                "Customers hear from us when it matters, on the channel they choose",
                (
                    KR(
                        "Paper statements printed", K.COST_REDUCTION, "a month", "180000", "60000",
                        12, 18, ON,
                    ),
                    KR(
                        "Satisfaction with notifications", K.SATISFACTION, "out of 5", "3.4", "4.2",
                        6, 12, AT_RISK, 2,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "e-statements by default for new customers",
                "fewer paper statements printed",
                "Paper statements printed",
                "-30000",
                (
                    proposed(260),
                    ("testing", 220, "New customers from one region"),
                    ("validated", 180, "Only 4 % asked for paper back"),
                ),
            ),
        ),
        (
            Item("Notification preferences centre", "now", ("Satisfaction with notifications",)),
            Item(
                "Spending insights in the monthly statement",
                "next",
                ("Satisfaction with notifications",),
            ),
            Item("Messaging-app notifications", "later", ("Satisfaction with notifications",)),
            Item("E-statements by default", "done", ("Paper statements printed",)),
        ),
    ),
    "mortgage-origination": DemoPlan(
        (
            Goal(
                "A mortgage offer in days, not weeks",
                (
                    KR(
                        "Days from application to offer", K.TIME_TO_MARKET, "days", "24", "7", 12,
                        18, OFF, 0, True,
                    ),
                    KR("Broker satisfaction", K.SATISFACTION, "out of 10", "6.2", "8.0", 9, 12, AT_RISK, 1),
                ),
            ),
            Goal(
                "More mortgage customers come to us directly",
                (KR("Applications made directly", K.ADOPTION, "%", "18", "30", 6, 12, ON, 1),),
            ),
        ),
        (
            Bet(
                "automated property valuations for low loan-to-value cases",
                "offers issued sooner",
                "Days from application to offer",
                "-5",
                (
                    proposed(180),
                    ("testing", 120, "Loan-to-value under 60 %"),
                    ("validated", 40, "Median six days faster for eligible cases"),
                ),
                "Only a quarter of cases are eligible, so the overall figure moves slowly.",
            ),
            Bet(
                "a mortgage in principle in the banking app",
                "more customers applying directly",
                "Applications made directly",
                "3",
                (proposed(25),),
            ),
        ),
        (
            Item("Automated valuations", "now", ("Days from application to offer",)),
            Item("Document upload in the broker portal", "now", ("Broker satisfaction",)),
            Item("Mortgage in principle in the app", "next", ("Applications made directly",)),
            Item("Remortgage in three clicks", "later", ("Applications made directly",)),
            Item("Income checks through open banking", "done", ("Days from application to offer",)),
        ),
    ),
    "personal-loans": DemoPlan(
        (
            Goal(
                "Fair credit in minutes",
                (
                    KR("Loans paid out the same day", K.ADOPTION, "%", "62", "90", 9, 12, ON, 1),
                    KR(
                        "Personal loan revenue", K.REVENUE, "EUR m a month", "2.4", "3.2", 12, 15,
                        AT_RISK, 2,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "a loan offer inside the budgeting screen",
                "more loans taken by existing customers",
                "Personal loan revenue",
                "0.3",
                (proposed(90), ("testing", 40, "Shown to customers with a good repayment record")),
            ),
        ),
        (
            Item("Loan offers in the budgeting screen", "now", ("Personal loan revenue",)),
            Item("Top up an existing loan", "next", ("Personal loan revenue",)),
            Item("Green loans for home improvements", "later", ("Personal loan revenue",)),
            Item("Same-day payout", "done", ("Loans paid out the same day",)),
        ),
    ),
    "credit-decisioning": DemoPlan(
        (
            Goal(
                "Lending decisions are instant and consistent",
                (
                    KR(
                        "Applications decided automatically", K.PRODUCTIVITY, "%", "70", "90", 12,
                        15, ON, 1,
                    ),
                    KR("Time to change a credit rule", K.TIME_TO_MARKET, "days", "30", "5", 10, 12, OFF),
                ),
            ),
        ),
        (
            Bet(
                "credit analysts writing rules in a rules editor",
                "rule changes live within days",
                "Time to change a credit rule",
                "-20",
                (
                    proposed(150),
                    ("testing", 100, "Two analysts, affordability rules only"),
                    ("invalidated", 30, "Model-risk review still takes two weeks"),
                ),
                "The editor works; the review process is the bottleneck.",
            ),
        ),
        (
            Item("Model-risk review in the delivery pipeline", "now", ("Time to change a credit rule",)),
            Item("Affordability from open-banking data", "next", ("Applications decided automatically",)),
            Item("Explainable decline reasons", "later", ("Applications decided automatically",)),
            Item("Rules editor", "done", ("Time to change a credit rule",)),
        ),
    ),
    "loan-servicing": DemoPlan(
        (
            Goal(
                "Borrowers manage their loan without calling us",
                (
                    KR("Overpayments made online", K.ADOPTION, "%", "35", "70", 9, 12, ON, 1),
                    KR(
                        "Servicing calls", K.COST_REDUCTION, "calls a month", "12000", "7000", 9,
                        12, AT_RISK,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "a payment-holiday request form in the app",
                "fewer servicing calls",
                "Servicing calls",
                "-1200",
                (
                    proposed(100),
                    ("testing", 60, "Mortgages only"),
                    ("validated", 20, "Holiday calls down by two thirds"),
                ),
            ),
        ),
        (
            Item("Payment holiday request in the app", "now", ("Servicing calls",)),
            Item("Download a redemption statement", "next", ("Servicing calls",)),
            Item("Loan statements in the app", "later", ("Overpayments made online",)),
            Item("Overpay online", "done", ("Overpayments made online",)),
        ),
    ),
    "collections": DemoPlan(
        (
            Goal(
                "Customers in arrears get help early and keep their dignity",
                (
                    KR(
                        "Customers back on track within 3 months", K.OTHER, "%", "38", "55", 12,
                        15, OFF, 1, True,
                    ),
                    KR("Cost to collect", K.COST_REDUCTION, "EUR a case", "85", "60", 6, 9, STALE),
                ),
            ),
        ),
        (
            Bet(
                "a self-service repayment plan",
                "more customers back on track",
                "Customers back on track within 3 months",
                "5",
                (proposed(160), ("testing", 100, "Offered in the arrears letter")),
            ),
        ),
        (
            Item("Move arrears cases to loan servicing", "now"),
            Item("Self-service repayment plans", "next", ("Customers back on track within 3 months",)),
            Item("Early-warning text messages", "done", ("Customers back on track within 3 months",)),
        ),
    ),
    "first-notice-of-loss": DemoPlan(
        (
            Goal(
                "Reporting a claim is the easiest part of a bad day",
                (
                    KR("Claims reported online", K.ADOPTION, "%", "30", "60", 12, 18, ON, 1),
                    KR(
                        "Satisfaction with reporting a claim", K.SATISFACTION, "out of 5", "3.6",
                        "4.4", 9, 12, ON, 2,
                    ),
                    KR(
                        "Time to report a claim", K.TIME_TO_MARKET, "minutes", "25", "10", 6, 12,
                        AT_RISK, 1, True,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "uploading photos of the damage while reporting",
                "fewer follow-up calls from handlers",
                "Satisfaction with reporting a claim",
                "0.3",
                (
                    proposed(150),
                    ("testing", 110, "Home claims only"),
                    ("validated", 60, "Follow-up calls down 30 %"),
                ),
            ),
            Bet(
                "reporting a travel claim from abroad in the app",
                "more claims reported online",
                "Claims reported online",
                "5",
                (proposed(20),),
            ),
            Bet(
                "a chatbot to take the first notice of loss",
                "claims reported faster",
                "Time to report a claim",
                "-8",
                (
                    proposed(220),
                    ("testing", 190, "On the website at night"),
                    ("invalidated", 130, "Customers abandoned the chatbot"),
                ),
                "Half the conversations were abandoned and satisfaction fell; switched off.",
            ),
        ),
        (
            Item("Report a travel claim from abroad", "now", ("Claims reported online",)),
            Item("Claim status tracker", "next", ("Satisfaction with reporting a claim",)),
            Item("Report a claim by voice", "later", ("Time to report a claim",)),
            Item(
                "Photo upload of the damage",
                "done",
                ("Satisfaction with reporting a claim", "Time to report a claim"),
            ),
        ),
    ),
    "claims-workbench": DemoPlan(
        (
            Goal(
                "Handlers settle simple claims in one touch",
                (
                    KR("Claims settled in one touch", K.PRODUCTIVITY, "%", "20", "45", 12, 15, OFF, 1),
                    KR("Handling time per claim", K.PRODUCTIVITY, "minutes", "95", "60", 9, 12, ON),
                ),
            ),
        ),
        (
            Bet(
                "automatic triage of simple claims",
                "more claims settled in one touch",
                "Claims settled in one touch",
                "10",
                (proposed(120), ("testing", 80, "Glass and small water-damage claims")),
            ),
        ),
        (
            Item("Automatic triage", "now", ("Claims settled in one touch",)),
            Item("Settlement calculator", "next", ("Handling time per claim",)),
            Item("Replace the document viewer", "later"),
            Item("Single claim view", "done", ("Handling time per claim",)),
        ),
    ),
    "repair-network": DemoPlan(
        (
            Goal(
                "Repairs start within a week of a claim",
                (
                    KR("Jobs accepted within 48 hours", K.ADOPTION, "%", "40", "75", 4, 12, ON, 1),
                    KR(
                        "Repairers using the portal", K.ADOPTION, "repairers", "35", "150", 0, 12,
                        NEW, 0, False,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "paying repairers within five days of finishing a job",
                "more repairers joining the portal",
                "Repairers using the portal",
                "40",
                (proposed(14),),
            ),
        ),
        (
            Item("Job offers by text message", "now", ("Jobs accepted within 48 hours",)),
            Item("Repairer self-service sign-up", "next", ("Repairers using the portal",)),
            Item("Compare repair quotes", "later", ("Jobs accepted within 48 hours",)),
        ),
    ),
    "claims-payouts": DemoPlan(
        (
            Goal(
                "Settled claims are paid the same day",
                (
                    KR("Claims paid the same day", K.ADOPTION, "%", "45", "90", 12, 15, AT_RISK, 1),
                    KR("Payout errors", K.COST_REDUCTION, "a month", "60", "10", 9, 12, ON),
                ),
            ),
        ),
        (
            Bet(
                "paying claims through instant payments instead of the nightly batch",
                "claims paid the same day",
                "Claims paid the same day",
                "30",
                (
                    proposed(200),
                    ("testing", 140, "Customer payouts under EUR 5,000"),
                    ("validated", 80, "Same-day payouts up from 45 % to 68 %"),
                ),
            ),
        ),
        (
            Item("Instant payouts to repairers", "now", ("Claims paid the same day",)),
            Item("Check bank details before paying out", "next", ("Payout errors",)),
            Item("Instant payouts to customers", "done", ("Claims paid the same day",)),
        ),
    ),
    "policy-administration": DemoPlan(
        (
            Goal(
                "Policies move to the new platform without customers noticing",
                (
                    KR("Policies migrated", K.OTHER, "%", "10", "100", 12, 18, OFF),
                    KR(
                        "Cost of running the legacy system", K.COST_REDUCTION, "EUR k a month",
                        "420", "150", 12, 18, AT_RISK,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "migrating each policy at its renewal",
                "no change customers notice",
                "Policies migrated",
                "30",
                (
                    proposed(250),
                    ("testing", 200, "Travel policies first"),
                    ("validated", 150, "No complaints from 12,000 migrated travel policies"),
                ),
            ),
        ),
        (
            Item("Migrate home policies at renewal", "now", ("Policies migrated",)),
            Item("Switch off batch printing", "next", ("Cost of running the legacy system",)),
            Item("Decommission the mainframe", "later", ("Cost of running the legacy system",)),
            Item("Travel policies migrated", "done", ("Policies migrated",)),
        ),
    ),
    "identity-platform": DemoPlan(
        (
            Goal(
                "Secure sign-in that customers do not notice",
                (
                    KR(
                        "Sign-ins with passkeys or biometrics", K.ADOPTION, "%", "35", "70", 12, 18,
                        ON, 1,
                    ),
                    KR(
                        "Account takeover cases", K.COST_REDUCTION, "a month", "48", "15", 9, 12, ON
                    ),
                    KR(
                        "Calls for help signing in", K.COST_REDUCTION, "calls a month", "7000",
                        "3000", 6, 12, OFF,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "offering a passkey right after a successful sign-in",
                "more sign-ins with passkeys",
                "Sign-ins with passkeys or biometrics",
                "10",
                (
                    proposed(160),
                    ("testing", 120, "Web banking on Chrome and Safari"),
                    ("validated", 75, "One in three accepted the offer"),
                ),
            ),
        ),
        (
            Item("Passkeys for web banking", "now", ("Sign-ins with passkeys or biometrics",)),
            Item("Self-service account recovery", "next", ("Calls for help signing in",)),
            Item(
                "Single sign-on for insurance customers",
                "later",
                ("Sign-ins with passkeys or biometrics",),
            ),
            Item("Biometric sign-in on Android", "done", ("Sign-ins with passkeys or biometrics",)),
        ),
    ),
    "customer-data-platform": DemoPlan(
        (
            Goal(
                "Teams use one consented view of each customer",
                (
                    KR(
                        "Teams using the customer view", K.ADOPTION, "teams", "3", "12", 12, 15,
                        ON, 0, False,
                    ),
                    KR(
                        "Time to get a new data feed", K.TIME_TO_MARKET, "days", "40", "10", 9, 12,
                        AT_RISK,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "a self-service data catalogue",
                "teams finding the data they need without asking",
                "Time to get a new data feed",
                "-10",
                (proposed(100), ("testing", 50, "Three teams in the pilot")),
            ),
        ),
        (
            Item("Data catalogue", "now", ("Teams using the customer view",)),
            Item("Consent-aware data feeds", "next", ("Time to get a new data feed",)),
            Item("Real-time customer events", "later", ("Teams using the customer view",)),
            Item("Single customer id", "done", ("Teams using the customer view",)),
        ),
    ),
    "analytics-reporting": DemoPlan(
        (
            Goal(
                "Regulatory returns are right first time and on time",
                (
                    KR(
                        "Manual adjustments per return", K.COST_REDUCTION, "adjustments", "140",
                        "30", 12, 15, ON,
                    ),
                    KR(
                        "Days to produce the management pack", K.TIME_TO_MARKET, "days", "12", "3",
                        9, 12, OFF, 1,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "reconciling automatically against the general ledger",
                "fewer manual adjustments",
                "Manual adjustments per return",
                "-50",
                (
                    proposed(210),
                    ("testing", 170, "Liquidity returns first"),
                    ("validated", 110, "Adjustments on liquidity returns down by half"),
                ),
            ),
        ),
        (
            Item("Automated ledger reconciliation", "now", ("Manual adjustments per return",)),
            Item("Self-service management dashboards", "next", ("Days to produce the management pack",)),
            Item("Basel IV reporting", "later"),
            Item("Data quality rules on source feeds", "done", ("Manual adjustments per return",)),
        ),
    ),
    "cloud-platform": DemoPlan(
        (
            Goal(
                "Teams ship to production safely whenever they are ready",
                (
                    KR("Deployments a week", K.PRODUCTIVITY, "deployments", "40", "120", 12, 18, ON),
                    KR(
                        "Lead time for changes", K.TIME_TO_MARKET, "hours", "72", "12", 9, 12,
                        AT_RISK,
                    ),
                ),
            ),
            Goal(
                "Running in the cloud costs less per customer",
                (
                    KR(
                        "Cloud cost per active customer", K.COST_REDUCTION, "EUR cents a month",
                        "38", "25", 6, 12, ON, 1,
                    ),
                ),
            ),
        ),
        (
            Bet(
                "a golden-path template for new services",
                "new services in production on their first day",
                "Lead time for changes",
                "-24",
                (
                    proposed(190),
                    ("testing", 150, "Used by two teams"),
                    ("validated", 95, "New services live in a day instead of three weeks"),
                ),
            ),
            Bet(
                "right-sizing advice in each team's dashboard",
                "a lower cloud bill",
                "Cloud cost per active customer",
                "-3",
                (proposed(30), ("testing", 5, "Advice shown to four teams")),
            ),
        ),
        (
            Item(
                "Golden-path templates, second version",
                "now",
                ("Deployments a week", "Lead time for changes"),
            ),
            Item("Cost dashboard per team", "next", ("Cloud cost per active customer",)),
            Item("Multi-region failover", "later"),
            Item("Self-service environments", "done", ("Lead time for changes",)),
        ),
    ),
    "api-gateway": DemoPlan(
        (
            Goal(
                "Partners build on our APIs without needing to talk to us",
                (
                    KR("Partner apps live", K.ADOPTION, "apps", "12", "40", 12, 18, OFF, 0, False),
                    KR("Time to first API call", K.TIME_TO_MARKET, "days", "14", "2", 9, 12, ON, 1),
                    KR("API revenue", K.REVENUE, "EUR k a month", "80", "200", 0, 12, NEW),
                ),
            ),
        ),
        (
            Bet(
                "a sandbox with realistic test data",
                "partners making their first call on the day they sign up",
                "Time to first API call",
                "-7",
                (
                    proposed(170),
                    ("testing", 130, "Open to five partners"),
                    ("validated", 85, "First call in under two days for the pilot partners"),
                ),
            ),
        ),
        (
            Item("Developer portal sandbox", "now", ("Time to first API call",)),
            Item("Usage-based pricing", "next", ("API revenue",)),
            Item("Partner analytics", "later", ("Partner apps live",)),
            Item("Self-service API keys", "done", ("Time to first API call",)),
        ),
    ),
}  # fmt: skip

# When the demo's roadmap items were added, by horizon (days before the anchor).
ITEM_ADDED_DAYS = {"done": 300, "now": 150, "next": 90, "later": 45}


# --- Dates and values -----------------------------------------------------------------------


def month_start(anchor: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` after (or, negative, before) the anchor's month."""
    index = anchor.year * 12 + anchor.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


class PlannedKeyResult(NamedTuple):
    plan: DemoKeyResult
    start_date: datetime.date
    target_date: datetime.date
    measurements: list[tuple[datetime.date, Decimal]]


def plan_key_result(
    product_slug: str, kr: DemoKeyResult, anchor: datetime.date
) -> PlannedKeyResult:
    """Start and target dates and the monthly measurements, landing in the planned standing.

    Progress follows the time line scaled to land ``GAPS[standing]`` points behind the expected
    progress at the last measurement (on-track results land a few points either side), with a
    little noise on the way (a fixed seed per key result); before the start it hovers at the
    baseline.
    """
    start = month_start(anchor, -kr.started)
    target_date = month_start(start, kr.months)
    if kr.standing == NEW:
        return PlannedKeyResult(kr, start, target_date, [])
    rng = random.Random(f"{product_slug}/{kr.name}")
    last = -STALE_MONTHS if kr.standing == STALE else 0
    first = -min(SERIES_MONTHS, kr.started + 2)
    baseline, target = Decimal(kr.baseline), Decimal(kr.target)
    span = Decimal((target_date - start).days)

    def expected(day: datetime.date) -> Decimal:
        return max(Decimal(0), min(Decimal(100), Decimal((day - start).days) * 100 / span))

    final_expected = expected(month_start(anchor, last))
    gap = GAPS.get(kr.standing, Decimal(rng.randint(-5, 4)))
    final_progress = max(Decimal(0), min(Decimal(100), final_expected - gap))
    quantum = Decimal(1).scaleb(-kr.places)
    points = []
    for month in range(first, last + 1):
        day = month_start(anchor, month)
        if month == last:
            progress = final_progress
        else:
            share = expected(day) / final_expected if final_expected else Decimal(0)
            noise = Decimal(str(round(rng.uniform(-2.5, 2.5), 2)))
            progress = min(Decimal(100), share * final_progress + noise)
        value = baseline + (target - baseline) * progress / 100
        points.append((day, value.quantize(quantum, rounding=ROUND_HALF_UP)))
    return PlannedKeyResult(kr, start, target_date, points)


# --- Writing it -----------------------------------------------------------------------------


class _Stamps:
    """When the plan says the rows created in this run happened, applied once they exist."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, int], deque[datetime.datetime]] = {}
        self.status_changes: dict[int, list[datetime.datetime]] = {}

    def add(self, subject_type: str, subject_id: int, *times: datetime.datetime) -> None:
        self.records.setdefault((subject_type, subject_id), deque()).extend(times)

    def apply(self, first_new_record: int) -> None:
        """Date the history rows written in this run (ids above the mark) and the hypothesis
        status changes; a measurement's history row is dated on the measurement's day."""
        records = list(ChangeRecord.objects.filter(pk__gte=first_new_record).order_by("id"))
        measured = dict(
            Measurement.objects.filter(
                pk__in=[r.subject_id for r in records if r.subject_type == "measurement"]
            ).values_list("id", "date")
        )
        for record in records:
            queue = self.records.get((record.subject_type, record.subject_id))
            if record.subject_type == "measurement" and record.subject_id in measured:
                # Never later than now (a measurement dated today, seeded early in the morning).
                planned = _at(measured[record.subject_id], 9 + record.subject_id % 8)
                record.at = min(planned, timezone.now())
            elif queue:
                record.at = queue.popleft()
        ChangeRecord.objects.bulk_update(records, ["at"], batch_size=500)

        changes = list(
            HypothesisStatusChange.objects.filter(hypothesis_id__in=self.status_changes).order_by(
                "hypothesis_id", "id"
            )
        )
        hypotheses = []
        for hypothesis_id, times in self.status_changes.items():
            mine = [c for c in changes if c.hypothesis_id == hypothesis_id]
            for change, at in zip(mine, times, strict=False):
                change.changed_at = at
            hypotheses.append(Hypothesis(pk=hypothesis_id, status_changed_at=times[-1]))
        HypothesisStatusChange.objects.bulk_update(changes, ["changed_at"], batch_size=500)
        Hypothesis.objects.bulk_update(hypotheses, ["status_changed_at"], batch_size=500)


def _writer(product: Product, fallback: AbstractBaseUser) -> Any:
    """The product's first owner (by username) who may write its outcomes, else ``fallback``."""
    for owner in sorted(product.owners.all(), key=lambda u: u.get_username()):
        if can_edit_outcomes(owner, product):
            return owner
    return fallback


def _seed_key_results(
    product: Product,
    plan: DemoPlan,
    actor: Any,
    anchor: datetime.date,
    stats: SeedStats,
    stamps: _Stamps,
) -> dict[str, KeyResult]:
    outcomes = {o.statement: o for o in Outcome.objects.filter(product=product)}
    key_results = {kr.name: kr for kr in KeyResult.objects.filter(product=product)}
    recorded: set[tuple[int, datetime.date]] = set(
        Measurement.objects.filter(key_result__product=product).values_list("key_result_id", "date")
    )
    for demo_outcome in plan.outcomes:
        planned = [plan_key_result(product.slug, kr, anchor) for kr in demo_outcome.key_results]
        outcome = outcomes.get(demo_outcome.statement)
        if outcome is None:
            outcome = services.outcome_create(
                actor=actor, product=product, statement=demo_outcome.statement
            )
            first_start = min(p.start_date for p in planned)
            stamps.add("outcome", outcome.pk, _at(first_start - datetime.timedelta(days=21), 10))
            stats.count("outcomes", "created")
        else:
            stats.count("outcomes", "unchanged")
        for p in planned:
            definition: dict[str, Any] = {
                "kind": p.plan.kind,
                "unit": p.plan.unit,
                "baseline": Decimal(p.plan.baseline),
                "target": Decimal(p.plan.target),
                "start_date": p.start_date,
                "target_date": p.target_date,
            }
            if p.plan.customer_facing is not None:
                definition["customer_facing"] = p.plan.customer_facing
            kr = key_results.get(p.plan.name)
            if kr is None:
                kr = services.key_result_create(
                    actor=actor, outcome=outcome, name=p.plan.name, **definition
                )
                key_results[kr.name] = kr
                stamps.add("key_result", kr.pk, _at(p.start_date - datetime.timedelta(days=7), 11))
                stats.count("key results", "created")
            else:
                definition["direction"] = (
                    KeyResult.Direction.DECREASE
                    if definition["target"] < definition["baseline"]
                    else KeyResult.Direction.INCREASE
                )
                changed = {k: v for k, v in definition.items() if getattr(kr, k) != v}
                if changed:
                    services.key_result_update(actor=actor, key_result=kr, **changed)
                    stats.count("key results", "updated")
                else:
                    stats.count("key results", "unchanged")
            for day, value in p.measurements:
                if (kr.pk, day) in recorded:
                    stats.count("measurements", "unchanged")
                    continue
                services.measurement_record(actor=actor, key_result=kr, date=day, value=value)
                recorded.add((kr.pk, day))
                stats.count("measurements", "created")
    return key_results


def _seed_hypotheses(
    product: Product,
    plan: DemoPlan,
    actor: Any,
    key_results: dict[str, KeyResult],
    anchor: datetime.date,
    stats: SeedStats,
    stamps: _Stamps,
) -> None:
    existing = set(Hypothesis.objects.filter(product=product).values_list("change", flat=True))
    for h in plan.hypotheses:
        if h.change in existing:
            stats.count("hypotheses", "unchanged")
            continue
        times = [_at(anchor - datetime.timedelta(days=days), 14) for _, days, _ in h.path]
        first_status, *_ = h.path[0]
        hypothesis = services.hypothesis_create(
            actor=actor,
            product=product,
            change=h.change,
            expected_outcome=h.expected_outcome,
            key_result=key_results.get(h.key_result or ""),
            expected_move=None if h.expected_move is None else Decimal(h.expected_move),
            status=first_status,
        )
        for n, (status, _, note) in enumerate(h.path[1:], start=1):
            last = n == len(h.path) - 1
            services.hypothesis_update(
                actor=actor,
                hypothesis=hypothesis,
                status=status,
                status_note=note,
                **({"evidence": h.evidence} if last and h.evidence else {}),
            )
        stamps.add("hypothesis", hypothesis.pk, *times)
        stamps.status_changes[hypothesis.pk] = times
        stats.count("hypotheses", "created")


def _seed_roadmap(
    product: Product,
    plan: DemoPlan,
    actor: Any,
    key_results: dict[str, KeyResult],
    anchor: datetime.date,
    stats: SeedStats,
    stamps: _Stamps,
) -> None:
    existing = set(RoadmapItem.objects.filter(product=product).values_list("title", flat=True))
    for item in plan.roadmap:
        if item.title in existing:
            stats.count("roadmap items", "unchanged")
            continue
        created = services.roadmap_item_create(
            actor=actor,
            product=product,
            title=item.title,
            horizon=item.horizon,
            key_results=[key_results[name] for name in item.key_results if name in key_results],
        )
        added = anchor - datetime.timedelta(days=ITEM_ADDED_DAYS[item.horizon])
        stamps.add("roadmap_item", created.pk, _at(added, 15))
        stats.count("roadmap items", "created")


def seed_outcomes(
    *,
    actor: AbstractBaseUser,
    today: datetime.date | None = None,
    plans: dict[str, DemoPlan] | None = None,
) -> SeedStats:
    """Outcomes, key results with a year of measurements, hypotheses and roadmaps for every
    demo product (seeded by ``products.demo.seed_products`` first).

    Written as each product's owner, or as ``actor`` for a product without one. ``today``
    (default: today) fixes the anchor, the first of its month.
    """
    anchor = (today or timezone.localdate()).replace(day=1)
    plans = PLANS if plans is None else plans
    stats = SeedStats()
    stamps = _Stamps()
    first_new_record = (ChangeRecord.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    products = {
        p.slug: p for p in Product.objects.filter(slug__in=plans).prefetch_related("owners")
    }
    for slug, plan in plans.items():
        product = products.get(slug)
        if product is None:
            stats.skipped.append(f"outcomes of {slug}: no such product")
            continue
        writer = _writer(product, actor)
        try:
            key_results = _seed_key_results(product, plan, writer, anchor, stats, stamps)
            _seed_hypotheses(product, plan, writer, key_results, anchor, stats, stamps)
            _seed_roadmap(product, plan, writer, key_results, anchor, stats, stamps)
        except (PermissionDenied, ValidationError) as error:
            # An archived product, or a demo row someone changed so the plan no longer fits.
            messages = getattr(error, "messages", None) or [str(error)]
            stats.skipped.append(f"outcomes of {product.name}: {'; '.join(messages)}")
    stamps.apply(first_new_record)
    return stats
