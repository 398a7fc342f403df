"""Sentence templates and note layouts, split into phrasing families.

Family A phrasings and layouts are used for the train and dev splits; family B phrasings and
layouts only for the test split, so that test accuracy measures generalisation to unseen
wording and document structure. `{m}` marks where a coded (or distractor) mention goes; the
other placeholders are filled from the note's facts.
"""

from __future__ import annotations

Bank = dict[str, dict[str, tuple[str, ...]]]

T: Bank = {
    # ---- opening / reason for visit ----
    "open_problem": {
        "A": (
            "{age}-year-old {sexw} presents for follow-up of {m}.",
            "Patient is a {age} y/o {sexw} seen today for {m}.",
            "{age} yo {sexw} here for evaluation of {m}.",
            "Pt is a {age}-year-old {sexw} who comes in c/o {m}.",
            "This {age}-year-old {sexw} returns to clinic regarding {m}.",
            "{age}-year-old {sexw} with a history notable for {m}, here for routine f/u.",
        ),
        "B": (
            "Seen today: {age}-year-old {sexw}; main concern is {m}.",
            "The patient, a {sexw} aged {age}, attends for review of {m}.",
            "I saw this {age} year old {sexw} in the office for ongoing {m}.",
            "Visit requested by the patient ({age}, {sexw}) because of {m}.",
        ),
    },
    "open_injury": {
        "A": (
            "{age}-year-old {sexw} presents after an injury {when}; found to have {m}.",
            "Pt is a {age} y/o {sexw} seen {episode_a} for {m}.",
            "{age} yo {sexw} {episode_a} for {m} sustained {when}.",
        ),
        "B": (
            "The patient ({age}, {sexw}) was hurt {when} and is seen {episode_b} for {m}.",
            "Injury visit, {episode_b}: {age} year old {sexw} with {m}.",
        ),
    },
    "hpi_detail": {
        "A": (
            "Symptoms have been present for {dur}.",
            "Reports symptoms x {dur}, {course}.",
            "Onset about {dur} ago; {course}.",
            "States it has been {course} over the past {dur}.",
            "Has been taking medications as prescribed without side effects.",
            "Home readings reviewed with the patient today.",
            "Pain rated {pain}/10 at its worst.",
        ),
        "B": (
            "Duration is roughly {dur} and the course has been {course}.",
            "Timeline: {dur}; {course} since onset.",
            "Severity: {pain} out of 10 on a numeric scale.",
            "Adherence to the regimen is reported as good.",
        ),
    },
    "hpi_psych": {
        "A": (
            "Reports mood has been {course} over the past {dur}.",
            "Sleep fair, appetite stable; energy {course}.",
            "Attending work/school; stressors reviewed.",
            "Taking medication daily without side effects.",
            "Denies SI/HI today.",
        ),
        "B": (
            "Emotional state described as {course} for roughly {dur}.",
            "Functioning at home and work reviewed; support system intact.",
            "Tolerating the current medication without adverse effects.",
        ),
    },
    "hpi_comorbid": {
        "A": (
            "Also has {m}, which is stable.",
            "Comorbid {m} is being managed as well.",
            "PMH also significant for {m}.",
            "Known {m}, on current regimen.",
        ),
        "B": (
            "Coexisting {m} also addressed today.",
            "Additional active problem: {m}.",
            "Ongoing {m} without recent change.",
        ),
    },
    "uncertain": {
        "A": (
            "Concern for possible {dx}; will evaluate further.",
            "Suspect {dx}, but this has not been confirmed.",
            "Rule out {dx}.",
            "Probable {dx} - workup pending.",
        ),
        "B": (
            "Differential includes {dx}, not established at this visit.",
            "Cannot exclude {dx}; testing ordered.",
            "Likely {dx}, awaiting confirmation.",
        ),
    },
    "negation": {
        "A": (
            "Denies {m}.",
            "No {m}.",
            "Negative for {m}.",
            "Pt denies any {m}.",
        ),
        "B": (
            "There has been no {m}.",
            "Patient reports no {m}.",
            "Free of {m}.",
        ),
    },
    "ruled_out": {
        "A": ("No evidence of {m}.", "{m} ruled out.", "Exam and testing without evidence of {m}."),
        "B": ("Findings argue against {m}.", "{m} was excluded today.", "Workup does not support {m}."),
    },
    "family": {
        "A": ("Family history: {rel} with {m}.", "FHx significant for {m} in {rel}.", "{rel} had {m}."),
        "B": ("Relatives: {rel} - {m}.", "Family hx notable for {m} ({rel})."),
    },
    "resolved": {
        "A": ("PSH/PMH: s/p {m}.", "History of {m}, resolved.", "Prior {m}, no current issues."),
        "B": ("Remote history of {m}, no longer active.", "Previously had {m}; fully resolved."),
    },
    "history_code": {
        "A": ("Relevant history: {m}.", "Also notable: {m}.", "Pertinent: {m}."),
        "B": ("Of note, {m}.", "Background relevant to today: {m}."),
    },
    # ---- assessment lines ----
    "assess": {
        "A": (
            "{m} - {plan}",
            "{m}: {plan}",
            "{m}. {plan}",
        ),
        "B": (
            "# {m} -> {plan}",
            "{m}; plan: {plan}",
            "Problem: {m}. Management: {plan}",
        ),
    },
    "plan_chronic": {
        "A": (
            "continue current medications.",
            "stable, continue regimen and recheck in 3 months.",
            "not at goal; dose adjusted today.",
            "discussed diet, exercise and adherence.",
            "refilled medications, labs as below.",
        ),
        "B": (
            "regimen unchanged; reassess next visit.",
            "titrate therapy, patient agrees with plan.",
            "counseled at length; medication list reconciled.",
            "monitoring plan reviewed, follow up in 12 weeks.",
        ),
    },
    "plan_acute": {
        "A": (
            "supportive care, return precautions given.",
            "start treatment as below; f/u if not improved in 1 week.",
            "symptomatic treatment discussed.",
            "prescription sent to pharmacy; call if worse.",
        ),
        "B": (
            "expectant management with clear safety-net advice.",
            "treatment started; review in 7-10 days if persisting.",
            "self-care measures explained; ER precautions.",
        ),
    },
    "plan_injury": {
        "A": ("RICE, activity modification and analgesics.", "splinting and follow-up with ortho.", "wound care reviewed; return for suture removal."),
        "B": ("protect, elevate, ice; analgesia as needed.", "immobilize and recheck in 1-2 weeks.", "keep wound dry for 24 h, then gentle cleansing."),
    },
    # ---- objective ----
    "vitals": {
        "A": (
            "Vitals: BP {bp}, HR {hr}, RR {rr}, T {temp} F, SpO2 {spo2}% on RA, Wt {wt} lb.",
            "BP {bp} | HR {hr} | Temp {temp} | RR {rr} | O2 sat {spo2}% | Weight {wt} lbs",
        ),
        "B": (
            "Vital signs - blood pressure {bp} mmHg, pulse {hr}/min, respirations {rr}, temperature {temp} F, oxygen saturation {spo2}% (room air), weight {wt} pounds.",
        ),
    },
    "exam": {
        "A": (
            "General: alert, well-appearing, NAD.",
            "HEENT: normocephalic, atraumatic, oropharynx clear.",
            "Lungs: clear to auscultation bilaterally, no wheezes.",
            "CV: regular rate and rhythm, no murmurs.",
            "Abdomen: soft, non-tender, non-distended.",
            "Ext: no edema, pulses 2+ bilaterally.",
            "Skin: warm and dry.",
            "Neuro: alert and oriented x3, grossly non-focal.",
            "Psych: normal mood and affect.",
        ),
        "B": (
            "Appearance: comfortable, in no distress.",
            "Chest: good air entry both sides, no added sounds.",
            "Heart: S1 S2 heard, rhythm regular, no murmur.",
            "Belly: soft, no guarding or tenderness.",
            "Limbs: no swelling, peripheral pulses intact.",
            "Mental state: euthymic, linear thought process.",
            "Neurologically intact to gross testing.",
        ),
    },
    "labs_result": {
        "A": ("Recent labs: A1c {a1c}%, creatinine {cr}, LDL {ldl}.", "Labs reviewed: eGFR {egfr}, K {k}, A1c {a1c}%."),
        "B": ("Most recent results - glycated Hb {a1c}%, LDL-C {ldl} mg/dL, eGFR {egfr} mL/min.",),
    },
    "meds_intro": {"A": ("Current medications: {meds}.", "Meds: {meds}."), "B": ("Medication list reconciled today: {meds}.",)},
    "allergies": {"A": ("Allergies: NKDA.", "Allergies: penicillin (rash).", "Allergies: sulfa."), "B": ("No known drug allergies.", "Drug allergy: codeine (nausea).")},
    "social": {
        "A": ("Social: lives with spouse, works full time.", "SH: no alcohol abuse, no illicit drugs.", "Social history: retired, active."),
        "B": ("Lives alone, independent in ADLs.", "Occupation: office work; drinks socially."),
    },
    # ---- E/M documentation ----
    "em_new": {"A": ("New patient to this practice.", "Pt is new to our clinic."), "B": ("First visit with our group (new patient).",)},
    "em_est": {"A": ("Established patient.", "Established pt, last seen {last} months ago."), "B": ("Known to the practice; returning patient.",)},
    "em_time": {
        "A": (
            "Total time spent on the date of the encounter: {minutes} minutes, including record review, exam, counseling and documentation.",
            "I spent a total of {minutes} minutes on this patient's care today.",
            "Total time {minutes} min on DOS.",
        ),
        "B": (
            "Time-based visit: {minutes} minutes of total practitioner time on the day of service.",
            "Cumulative time today, face-to-face and non-face-to-face: {minutes} minutes.",
        ),
    },
    "em_mdm": {
        "A": (
            "Medical decision making: {mdm} complexity.",
            "MDM: {mdm} ({mdm_reason}).",
            "Level of MDM is {mdm}: {mdm_reason}.",
        ),
        "B": (
            "Decision-making complexity assessed as {mdm}; {mdm_reason}.",
            "MDM {mdm} - {mdm_reason}.",
        ),
    },
    "tele_video": {
        "A": (
            "This visit was conducted via real-time audio and video telehealth. Patient at home, provider in clinic. Consent obtained.",
            "Telehealth video visit; patient verbally consented. Patient located at home.",
        ),
        "B": (
            "Synchronous video encounter (two-way audio/video) with the patient at their residence; consent documented.",
        ),
    },
    "tele_audio": {
        "A": (
            "This visit was conducted by telephone (audio only); patient declined or could not use video. Consent obtained.",
            "Audio-only telephone visit; patient consented.",
        ),
        "B": ("Phone-only encounter (no video available); verbal consent recorded.",),
    },
    "proc_consent": {
        "A": ("Risks, benefits and alternatives discussed; written consent obtained.", "Consent signed after discussion of risks including bleeding and infection."),
        "B": ("Informed consent: the patient understood risks (infection, bleeding, pain) and agreed.",),
    },
    "proc_done": {
        "A": ("Performed today: {m}.", "{m} performed in clinic today without complication.", "Procedure: {m}."),
        "B": ("The following was carried out: {m}.", "Done in office: {m}, tolerated well."),
    },
    "order_outside": {
        "A": ("Ordered {m} at outside imaging center.", "Will schedule {m}."),
        "B": ("Referral placed for {m} (external facility).",),
    },
    "lab_drawn": {
        "A": ("Labs drawn today: {m}.", "Venipuncture performed; sent {m}.", "In-office labs today: {m}."),
        "B": ("Blood collected in clinic for {m}.", "Specimens obtained today for {m}."),
    },
    "poc_test": {
        "A": ("{m} in clinic: {result}.", "POC {m}: {result}."),
        "B": ("Point-of-care {m} returned {result}.",),
    },
    "vaccine": {
        "A": ("Administered {m} today.", "Immunization given: {m}.", "{m} given IM, lot recorded."),
        "B": ("Vaccine administered in clinic: {m}.", "Gave {m}; VIS provided."),
    },
    "vaccine_counsel": {
        "A": ("Vaccine counseling provided to parent by physician for each vaccine.",),
        "B": ("Physician counseled caregiver on each vaccine component before administration.",),
    },
    "followup": {
        "A": ("Follow up in {fu}.", "RTC {fu}.", "F/u {fu} or sooner PRN."),
        "B": ("Next review in {fu}.", "Return visit planned in {fu}."),
    },
    "preventive_intro": {
        "A": ("{age}-year-old {sexw} here for annual physical.", "Annual wellness exam for this {age} y/o {sexw}.", "{age} yo {sexw} presents for routine preventive visit."),
        "B": ("Health maintenance visit: {sexw}, age {age}.", "Scheduled yearly check-up, {age}-year-old {sexw}."),
    },
    "well_child_intro": {
        "A": ("{age_child} well child check.", "Well-child visit for a {age_child} {sexw}.", "{age_child} {sexw} here for routine WCC with parent."),
        "B": ("Routine pediatric health supervision visit, {age_child} {sexw}.",),
    },
    "preventive_normal": {
        "A": ("Routine adult exam without abnormal findings.", "Normal annual exam."),
        "B": ("Preventive exam complete; nothing abnormal found.",),
    },
    "preventive_abnormal": {
        "A": ("Routine exam with abnormal findings as noted below.", "Annual exam notable for the findings below."),
        "B": ("Preventive exam with abnormal finding(s), addressed separately.",),
    },
    "separate_em": {
        "A": ("In addition, a separate significant problem was addressed: {m}.", "Separately identifiable problem-oriented service today for {m}."),
        "B": ("Distinct from the preventive/procedural service, {m} was evaluated and managed.",),
    },
    "prenatal": {
        "A": ("G{g}P{p} at {weeks}w{days}d by early US.", "Currently {weeks} weeks {days} days pregnant (G{g}P{p})."),
        "B": ("Gestational age {weeks}+{days} weeks; gravida {g}, para {p}.",),
    },
    "fh_bmi": {"A": ("BMI {bmi}.", "BMI today {bmi} kg/m2."), "B": ("Body mass index measured at {bmi}.",)},
    "tetanus_due": {"A": ("Last tetanus > 10 years ago.",), "B": ("Tetanus booster overdue.",)},
    "screen_instr": {
        "A": ("PHQ-9 score {phq}; GAD-7 score {gad}.", "PHQ-9 administered and scored: {phq}."),
        "B": ("Standardized depression questionnaire result: {phq}.",),
    },
    "psychotherapy_time": {
        "A": ("Psychotherapy time: {ptime} minutes.", "Individual psychotherapy provided for {ptime} minutes."),
        "B": ("Therapy session length {ptime} min (start/stop times documented).",),
    },
    "proc_narrative": {
        "A": (
            "Time-out performed confirming patient, site and procedure.",
            "The area was prepped with chlorhexidine and draped in sterile fashion.",
            "Local anesthesia with 1% lidocaine was obtained.",
            "Estimated blood loss minimal.",
            "There were no complications and the patient tolerated the procedure well.",
            "Hemostasis achieved; sterile dressing applied.",
            "Post-procedure instructions reviewed and given in writing.",
        ),
        "B": (
            "Universal protocol completed before starting.",
            "Skin cleansed with povidone-iodine; sterile field established.",
            "Anesthetized locally using lidocaine with epinephrine.",
            "Blood loss negligible; no immediate adverse events.",
            "Patient left the procedure room in stable condition.",
            "Aftercare handout provided; questions answered.",
        ),
    },
    "education": {
        "A": (
            "Discussed diagnosis, treatment options and expected course; patient verbalized understanding.",
            "Medication risks and benefits reviewed.",
            "Return precautions reviewed in detail.",
            "Patient education materials provided.",
        ),
        "B": (
            "We talked through the working diagnosis and next steps; the patient agrees.",
            "Shared decision-making used for the treatment choice.",
            "Written after-visit summary given.",
        ),
    },
    "ros_normal": {
        "A": ("ROS otherwise negative except as noted in HPI.", "All other systems reviewed and negative.", "Constitutional: no fevers or chills."),
        "B": ("Remaining systems reviewed without positive findings.", "Systems review unremarkable apart from the above."),
    },
    "psych_content": {
        "A": ("Used CBT techniques focused on cognitive restructuring.", "Reviewed coping skills and sleep hygiene.", "Safety plan reviewed; denies SI/HI."),
        "B": ("Session focused on behavioral activation and values work.", "Processed recent stressors using supportive therapy."),
    },
}

# Layouts: (layout id, family, setting kinds it fits, [(header, [section keys])])
LAYOUTS: dict[str, dict[str, object]] = {
    "soap": {"family": "A", "kinds": ("office", "telehealth"), "sections": [
        ("SUBJECTIVE:", ["tele", "hpi", "pmh", "meds", "allergies", "social", "family", "ros"]),
        ("OBJECTIVE:", ["vitals", "exam", "results"]),
        ("ASSESSMENT:", ["assessment"]),
        ("PLAN:", ["procedures", "plan", "em"]),
    ]},
    "hpi_ap": {"family": "A", "kinds": ("office",), "sections": [
        ("CHIEF COMPLAINT:", ["cc"]),
        ("HISTORY OF PRESENT ILLNESS:", ["hpi"]),
        ("PAST MEDICAL HISTORY:", ["pmh"]),
        ("MEDICATIONS:", ["meds"]),
        ("ALLERGIES:", ["allergies"]),
        ("SOCIAL HISTORY:", ["social"]),
        ("FAMILY HISTORY:", ["family"]),
        ("REVIEW OF SYSTEMS:", ["ros"]),
        ("PHYSICAL EXAM:", ["vitals", "exam"]),
        ("DATA:", ["results"]),
        ("ASSESSMENT AND PLAN:", ["assessment", "procedures", "plan", "em"]),
    ]},
    "tele_narrative": {"family": "A", "kinds": ("telehealth",), "sections": [
        ("TELEHEALTH VISIT", ["tele", "hpi", "meds", "family", "ros"]),
        ("Observations:", ["exam"]),
        ("Assessment/Plan:", ["assessment", "plan", "em"]),
    ]},
    "procedure_note": {"family": "A", "kinds": ("procedure", "asc"), "sections": [
        ("PROCEDURE NOTE", ["hpi", "pmh", "meds", "allergies", "ros", "vitals", "exam"]),
        ("Indication(s):", ["assessment"]),
        ("Procedure details:", ["procedures"]),
        ("Plan:", ["plan", "em"]),
    ]},
    "preventive": {"family": "A", "kinds": ("preventive",), "sections": [
        ("PREVENTIVE VISIT", ["hpi", "pmh", "meds", "allergies", "social", "family", "ros"]),
        ("Exam:", ["vitals", "exam", "results"]),
        ("Assessment:", ["assessment"]),
        ("Plan / Immunizations / Screening:", ["procedures", "plan", "em"]),
    ]},
    "psych": {"family": "A", "kinds": ("psych",), "sections": [
        ("BEHAVIORAL HEALTH PROGRESS NOTE", ["tele", "hpi", "meds", "family"]),
        ("Mental status exam:", ["exam"]),
        ("Assessment:", ["assessment"]),
        ("Interventions and plan:", ["procedures", "plan", "em"]),
    ]},
    # ---- family B: test only ----
    "soap_compact": {"family": "B", "kinds": ("office", "telehealth"), "sections": [
        ("S:", ["tele", "hpi", "meds", "pmh", "family", "social", "ros"]),
        ("O:", ["vitals", "results", "exam"]),
        ("A/P:", ["assessment", "procedures", "plan", "em"]),
    ]},
    "consult_letter": {"family": "B", "kinds": ("office",), "sections": [
        ("Reason for visit -", ["cc"]),
        ("History -", ["hpi", "pmh", "family", "social"]),
        ("Current medications -", ["meds", "allergies"]),
        ("Examination -", ["vitals", "exam", "results", "ros"]),
        ("Impression -", ["assessment"]),
        ("Recommendations -", ["procedures", "plan", "em"]),
    ]},
    "virtual_b": {"family": "B", "kinds": ("telehealth",), "sections": [
        ("VIRTUAL CARE ENCOUNTER", ["tele"]),
        ("Interval history", ["hpi", "meds", "ros", "family"]),
        ("Observed on camera / reported", ["exam"]),
        ("Impression & plan", ["assessment", "plan", "em"]),
    ]},
    "procedure_report_b": {"family": "B", "kinds": ("procedure", "asc"), "sections": [
        ("OFFICE PROCEDURE REPORT", []),
        ("Pre-procedure diagnosis:", ["assessment"]),
        ("Background:", ["hpi", "meds", "allergies", "ros", "vitals", "exam"]),
        ("Technique:", ["procedures"]),
        ("Disposition:", ["plan", "em"]),
    ]},
    "health_maintenance_b": {"family": "B", "kinds": ("preventive",), "sections": [
        ("HEALTH MAINTENANCE EXAM", ["hpi"]),
        ("Since last visit:", ["pmh", "meds", "family", "social", "ros"]),
        ("Physical:", ["vitals", "exam", "results"]),
        ("Diagnoses:", ["assessment"]),
        ("Preventive services and counseling:", ["procedures", "plan", "em"]),
    ]},
    "psych_b": {"family": "B", "kinds": ("psych",), "sections": [
        ("Therapy/medication management session", ["tele", "hpi", "meds", "family"]),
        ("MSE", ["exam"]),
        ("Formulation", ["assessment"]),
        ("Session interventions, plan", ["procedures", "plan", "em"]),
    ]},
}
