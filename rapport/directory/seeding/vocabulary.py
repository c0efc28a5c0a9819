"""Word lists the demo generator draws from. Written for Rapport; weights are rough shares,
chosen so that a seeded directory looks like a real North American one, not a uniform spread.
"""

from __future__ import annotations

# Given names by the gender a name is usually read as; "neutral" names go with any category.
# Grouped loosely by heritage so a seeded therapist's languages can follow their name.
GIVEN_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "anglo": {
        "woman": ("Sarah", "Emily", "Jessica", "Laura", "Megan", "Rachel", "Hannah", "Claire",
                  "Katherine", "Rebecca", "Alison", "Heather", "Lindsay", "Meredith", "Naomi",
                  "Caroline", "Abigail", "Erin", "Shannon", "Brianna", "Margaret", "Olivia"),
        "man": ("Michael", "David", "James", "Andrew", "Daniel", "Matthew", "Jonathan", "Ryan",
                "Graham", "Peter", "Thomas", "Colin", "Benjamin", "Nathan", "Patrick", "Scott",
                "Owen", "Derek", "Gordon", "Malcolm"),
        "neutral": ("Jordan", "Taylor", "Casey", "Morgan", "Riley", "Avery", "Jamie", "Quinn",
                    "Rowan", "Emerson", "Sage", "Robin"),
    },
    "french": {
        "woman": ("Geneviève", "Isabelle", "Marie-Ève", "Chantal", "Sophie", "Julie", "Émilie",
                  "Catherine", "Valérie", "Nathalie", "Josée", "Annie", "Mélanie", "Audrey"),
        "man": ("Jean-François", "Mathieu", "Olivier", "Sébastien", "Luc", "Philippe", "Martin",
                "Étienne", "Guillaume", "François", "Marc-André", "Simon"),
        "neutral": ("Dominique", "Claude", "Camille", "Alexis", "Sacha"),
    },
    "south_asian": {
        "woman": ("Priya", "Anjali", "Simran", "Harpreet", "Neha", "Kavya", "Ayesha", "Sana",
                  "Deepa", "Manpreet", "Nimisha", "Farah"),
        "man": ("Arjun", "Rohan", "Gurpreet", "Vikram", "Imran", "Sanjay", "Harjit", "Amit",
                "Faisal", "Rahul"),
        "neutral": ("Jaspreet", "Kiran", "Navdeep", "Sunny"),
    },
    "east_asian": {
        "woman": ("Mei", "Grace", "Jenny", "Yuna", "Hyejin", "Lin", "Vivian", "Sakura", "Jia",
                  "Karen", "Eunice"),
        "man": ("Kevin", "Wei", "Daniel", "Minho", "Jason", "Hiroshi", "Eric", "Kenji", "Tony",
                "Ming"),
        "neutral": ("Jin", "Yu", "Haru", "Min"),
    },
    "hispanic": {
        "woman": ("María", "Lucía", "Gabriela", "Valentina", "Camila", "Ana", "Daniela",
                  "Sofía", "Isabel", "Carolina", "Mariana"),
        "man": ("Carlos", "Javier", "Diego", "Alejandro", "Luis", "Miguel", "Andrés", "Mateo",
                "Rafael", "José"),
        "neutral": ("Guadalupe", "Cruz", "Ariel"),
    },
    "african": {
        "woman": ("Amara", "Nia", "Adaeze", "Fatou", "Zainab", "Imani", "Chiamaka", "Aisha",
                  "Makeda", "Ngozi", "Keisha", "Tanisha"),
        "man": ("Kwame", "Tunde", "Jamal", "Malik", "Emeka", "Darnell", "Abdi", "Kofi",
                "Marcus", "Andre"),
        "neutral": ("Ayo", "Imani", "Nkosi", "Jaylen"),
    },
    "middle_eastern": {
        "woman": ("Leila", "Yasmin", "Nour", "Maryam", "Dina", "Shirin", "Rania", "Noor",
                  "Tamar", "Sara"),
        "man": ("Omar", "Karim", "Reza", "Ali", "Samir", "Yusuf", "Daniel", "Ari", "Hassan",
                "Elias"),
        "neutral": ("Noor", "Sami", "Rumi"),
    },
    "indigenous": {
        "woman": ("Waseskun", "Tala", "Winona", "Kateri", "Dawn", "Skye", "Aiyana", "Shania"),
        "man": ("Tecumseh", "Ahanu", "Wade", "Cody", "Nodin", "Travis"),
        "neutral": ("River", "Sky", "Kai"),
    },
}  # fmt: skip

SURNAMES: dict[str, tuple[str, ...]] = {
    "anglo": ("Anderson", "MacDonald", "Campbell", "Thompson", "Wilson", "Clarke", "Bennett",
              "Fraser", "Hughes", "Morrison", "Reid", "Sinclair", "Stewart", "Walsh", "Murphy",
              "Foster", "Harper", "Lawson", "Mitchell", "Parker", "Sullivan", "Whitfield",
              "Grant", "Elliott", "Barnes", "Coleman", "Hayes", "Porter", "Russell", "Cooper"),
    "french": ("Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie",
               "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron",
               "Leblanc", "Paquette", "Girard", "Simard", "Boucher"),
    "south_asian": ("Sharma", "Singh", "Patel", "Gill", "Sandhu", "Khan", "Dhillon", "Grewal",
                    "Mehta", "Iyer", "Chaudhry", "Malik", "Reddy", "Bhatt", "Siddiqui"),
    "east_asian": ("Chen", "Wong", "Li", "Wang", "Kim", "Park", "Nguyen", "Tanaka", "Liu",
                   "Zhang", "Lee", "Cho", "Huang", "Yamamoto", "Tran"),
    "hispanic": ("García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez",
                 "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Morales", "Ortiz",
                 "Castillo"),
    "african": ("Okafor", "Mensah", "Johnson", "Williams", "Adeyemi", "Diallo", "Jackson",
                "Washington", "Osei", "Nwosu", "Abdullahi", "Robinson", "Banda", "Haile"),
    "middle_eastern": ("Haddad", "Rahimi", "Nasser", "Karimi", "Khoury", "Mansour", "Levi",
                       "Cohen", "Hosseini", "Aziz", "Saleh", "Farah", "Mizrahi", "Darwish"),
    "indigenous": ("Whitehorse", "Cardinal", "Thunderbird", "Littlechild", "Bear", "Morningstar",
                   "Redsky", "Two Rivers", "Sinclair", "Cheechoo", "Bigknife", "Mckay"),
}  # fmt: skip

# Heritage shares by country (Quebec gets its own, mostly francophone).
HERITAGE_WEIGHTS: dict[str, dict[str, float]] = {
    "CA": {"anglo": 46, "french": 6, "south_asian": 14, "east_asian": 12, "hispanic": 4,
           "african": 7, "middle_eastern": 7, "indigenous": 4},
    "CA-QC": {"french": 70, "anglo": 8, "middle_eastern": 7, "african": 6, "hispanic": 4,
              "east_asian": 3, "south_asian": 2},
    "US": {"anglo": 50, "hispanic": 17, "african": 13, "east_asian": 7, "south_asian": 5,
           "middle_eastern": 5, "french": 1, "indigenous": 2},
}  # fmt: skip

# Extra languages that often come with a heritage (language slugs from the taxonomy fixture).
HERITAGE_LANGUAGES: dict[str, tuple[str, ...]] = {
    "anglo": ("fr", "es", "ase", "de"),
    "french": ("en", "es"),
    "south_asian": ("pa", "hi", "ur", "ta"),
    "east_asian": ("zh-yue", "zh-cmn", "ko", "vi", "ja", "tl"),
    "hispanic": ("es", "pt"),
    "african": ("fr", "so", "ar"),
    "middle_eastern": ("ar", "fa", "he"),
    "indigenous": ("cr", "oj"),
}

PRONOUNS = {
    "woman": "she/her",
    "man": "he/him",
    "non_binary": "they/them",
    "two_spirit": "they/them",
    "another": "",
    "undisclosed": "",
}

STREET_NAMES = (
    "Queen", "King", "Main", "Bloor", "College", "Elm", "Maple", "Oak", "Cedar", "Pine",
    "Church", "Victoria", "Wellington", "Park", "Lake", "Hillcrest", "Riverside", "Spring",
    "Union", "Market", "Broadway", "Jefferson", "Lincoln", "Madison", "Washington", "Franklin",
    "Highland", "Sunset", "Harbour", "Mountain", "Dundas", "Yonge", "Sherbrooke", "Granville",
)  # fmt: skip
STREET_KINDS = ("St", "Ave", "Rd", "Blvd", "Dr", "Way")
SUITE_STYLES = ("Suite {n}", "Unit {n}", "#{n}", "")

# First letter of Canadian postal codes by province (a fact of the postal system).
CANADIAN_POSTAL_LETTER = {
    "CA-NL": "A", "CA-NS": "B", "CA-PE": "C", "CA-NB": "E", "CA-QC": "H", "CA-ON": "M",
    "CA-MB": "R", "CA-SK": "S", "CA-AB": "T", "CA-BC": "V", "CA-NT": "X", "CA-NU": "X",
    "CA-YT": "Y",
}  # fmt: skip

# How often each concern appears on profiles, roughly: anxiety and depression lead everywhere.
CONCERN_WEIGHTS = {
    "anxiety": 80, "depression": 72, "stress": 50, "relationships": 45, "trauma": 48,
    "self-esteem": 40, "life-transitions": 38, "grief": 32, "family-conflict": 22,
    "workplace": 24, "identity": 18, "gender-sexuality": 14, "adhd": 16, "panic": 18,
    "social-anxiety": 16, "parenting": 14, "perinatal": 8, "ocd": 8, "eating": 8,
    "substance-use": 12, "anger": 10, "chronic-illness": 8, "sleep": 8, "autism": 7,
    "bipolar": 6, "personality": 7, "self-harm": 7, "suicidal-thoughts": 8,
    "racial-trauma": 7, "immigration": 7, "infidelity": 6, "divorce": 9,
}  # fmt: skip

MODALITY_WEIGHTS = {
    "cbt": 70, "act": 30, "dbt": 18, "emdr": 20, "eft": 14, "psychodynamic": 22,
    "person-centred": 35, "solution-focused": 25, "narrative": 14, "ifs": 16,
    "mindfulness": 32, "cpt": 8, "somatic": 10, "gottman": 8, "motivational": 15,
    "family-systems": 10, "play": 4, "art": 4, "cft": 10, "erp": 5, "schema": 5,
    "existential": 6,
}  # fmt: skip

# Where a modality tends to put a therapist on each style scale (1..5; 3 = no pull).
# Order: structure, direction, challenge, time focus.
MODALITY_STYLE_PULL: dict[str, tuple[int, int, int, int]] = {
    "cbt": (2, 2, 3, 2), "dbt": (2, 2, 3, 2), "act": (3, 3, 3, 2), "emdr": (2, 2, 3, 4),
    "erp": (1, 1, 4, 2), "cpt": (2, 2, 3, 3), "solution-focused": (2, 3, 3, 1),
    "psychodynamic": (5, 4, 3, 5), "person-centred": (4, 5, 2, 3), "narrative": (4, 4, 3, 3),
    "ifs": (4, 4, 2, 4), "existential": (5, 4, 4, 3), "eft": (3, 3, 3, 3),
    "gottman": (2, 2, 3, 2), "somatic": (4, 4, 2, 3), "schema": (3, 2, 3, 4),
}  # fmt: skip

HEADLINES = (
    "Steady, practical support for {concern_a} and {concern_b}",
    "A calm space to untangle {concern_a}",
    "Helping {population} find their footing again",
    "Warm, direct therapy for {concern_a}, {concern_b} and {concern_c}",
    "Making room for {concern_a} without letting it run your life",
    "Evidence-based care with a human touch",
    "Therapy that meets you where you are",
    "Curious, collaborative work on {concern_a} and {concern_b}",
)

ABOUT_OPENINGS = (
    "I have been a therapist for {years} years, and I still find it a privilege to be trusted "
    "with people's stories.",
    "Before I trained as a therapist I worked in {previous_field}, which taught me how much "
    "of our wellbeing is shaped by the places we spend our days.",
    "Most people who contact me are tired of feeling stuck and are not sure where to start. "
    "That is a fine place to begin.",
    "I work with {population} who want to understand themselves better and make changes that last.",
    "Many of the people I see are carrying {concern_a} quietly while keeping everything else "
    "going. You do not have to do that alone.",
)
ABOUT_MIDDLES = (
    "My practice focuses on {concern_a}, {concern_b} and {concern_c}.",
    "I see a lot of people dealing with {concern_a} and {concern_b}, often alongside big "
    "changes at work or at home.",
    "Much of my work is with {concern_a}, and I also have experience with {concern_b}.",
    "I have a particular interest in {concern_a}, and in how {concern_b} can affect the "
    "people closest to us.",
)
ABOUT_CLOSINGS = (
    "I aim to be honest, warm and unhurried, and I will tell you if I think someone else "
    "would be a better fit.",
    "You set the pace. We can go slowly, and we can change course whenever you need to.",
    "I believe therapy works best when you feel free to tell me what is and is not helping.",
    "Outside the therapy room I am happiest on a trail, in a kitchen or with a good novel.",
    "I offer a free consultation so you can get a feel for whether we are a good match.",
)
PREVIOUS_FIELDS = (
    "education", "nursing", "community outreach", "human resources", "the arts",
    "social services", "software", "hospitality", "youth work", "the military",
)  # fmt: skip

APPROACH_TEXTS = (
    "I draw mainly on {modality_a}, and bring in {modality_b} when it suits the person in "
    "front of me. We will agree on goals together and revisit them as we go.",
    "My approach blends {modality_a} with {modality_b}. I care less about the label than "
    "about whether our work feels useful to you week by week.",
    "I am trained in {modality_a} and {modality_b}. Some sessions are practical and "
    "skills-based; others are about making sense of what has happened.",
    "Our work will be grounded in {modality_a}. Expect homework that is realistic, and "
    "plenty of room to talk about what gets in the way.",
)

FIRST_SESSION_TEXTS = (
    "Our first session is mostly about you: what brings you in, what you hope will be "
    "different, and what you want to know about me. There is no pressure to share everything "
    "at once.",
    "In the first hour I will ask about what is going on now, a little about your history, "
    "and what you would like from therapy. We will end by agreeing on a first step.",
    "We will start with the practical things (confidentiality, scheduling, fees), then spend "
    "most of the time on what you would like help with. Many people leave with a clearer "
    "sense of where to begin.",
    "A first session with me is a conversation, not an interview. You can ask me anything "
    "about how I work, and we will decide together whether to continue.",
)

CONTACT_HOURS = (
    "Weekdays 9:00–17:00",
    "Monday to Thursday 10:00–19:00",
    "Tuesday to Saturday 9:00–16:00",
    "Weekdays 8:00–15:00, some evenings",
    "Monday, Wednesday, Friday 12:00–20:00",
)

INSURANCE_NOTES_US = (
    "In network with Aetna, Cigna and BlueCross BlueShield.",
    "In network with UnitedHealthcare and Optum; superbills for out-of-network plans.",
    "Out-of-network provider; I provide superbills for reimbursement.",
    "Accepts Medicaid and most major plans.",
)
INSURANCE_NOTES_CA = (
    "Covered by most extended health plans; direct billing to Green Shield and Manulife.",
    "Receipts accepted by most workplace benefit plans.",
    "Direct billing to Sun Life, Canada Life and Blue Cross.",
)

CULTURAL_BACKGROUNDS: dict[str, tuple[str, ...]] = {
    "anglo": ("Scottish-Canadian", "Irish-American", "English and Welsh heritage"),
    "french": ("Québécoise", "Acadian", "Franco-Ontarian"),
    "south_asian": ("Punjabi Sikh", "Gujarati", "Pakistani-Canadian", "Tamil"),
    "east_asian": ("Cantonese", "Korean-American", "Vietnamese", "Filipino", "Japanese-Canadian"),
    "hispanic": ("Mexican-American", "Colombian", "Puerto Rican", "Salvadoran"),
    "african": ("Nigerian-Canadian", "Jamaican", "African American", "Somali", "Ghanaian"),
    "middle_eastern": ("Lebanese", "Iranian", "Syrian", "Israeli", "Egyptian"),
    "indigenous": ("Cree", "Anishinaabe", "Métis", "Haudenosaunee", "Diné"),
}
