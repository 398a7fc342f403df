"""Family C sentence templates and note layouts for the distribution-shift benchmark.

Family C is a set of paraphrases of the synthetic generator's family-A
templates and layouts. It was written from the family-A templates and layouts
only, without reading family B (the held-out family), in independent wording
and sentence structure. ``benchmarks/bench_family_c.py`` uses it to
measure how robust the coding system is to templates it never saw in training.

Every template keeps the clinical and billing meaning of the family-A templates
under the same key. Negations stay negations, uncertain findings stay
uncertain, and past history stays past history. Each template uses exactly the
same set of placeholders as at least one family-A template for that key, so
gold labels generated from family A's slot values stay valid. Every layout
matches its family-A layout in ``kinds``, section order and slot lists; only
the header text is reworded, keeping the original's trailing-colon convention.

Edited after writing: one lab_drawn template said a specimen was "sent out"; a specimen sent to
an outside reference lab is billed by that lab, not the practice (the Suggester does not bill it),
while the generator's gold bills every drawn lab, so the template now says it was processed in
the office lab.
"""

from __future__ import annotations

TEMPLATES_C: dict[str, tuple[str, ...]] = {
    "open_problem": (
        "This is a {age}-year-old {sexw} returning for ongoing management of {m}.",
        "Patient, a {age}-year-old {sexw}, is here today to discuss {m}.",
        "{age} y/o {sexw} with {m}, seen in clinic for a scheduled follow-up visit.",
        "{age}-year-old {sexw} evaluated today with complaints of {m}.",
    ),
    "open_injury": (
        "Injured {when}, this {age}-year-old {sexw} was found on evaluation to have {m}.",
        "This {age}-year-old {sexw} is being seen {episode_a} for {m}.",
        "{age} y/o {sexw} {episode_a} for {m}, which occurred {when}.",
    ),
    "hpi_detail": (
        "Symptoms began roughly {dur} ago.",
        "Over the past {dur}, symptoms have been {course}.",
        "Tolerating medications as directed without adverse effects.",
        "Describes worst pain as {pain}/10.",
    ),
    "hpi_psych": (
        "Over the last {dur}, mood described as {course}.",
        "Energy level {course}; sleeping fairly well and appetite unchanged.",
        "Continues daily medication and tolerates it well.",
        "Denies suicidal or homicidal ideation at this visit.",
    ),
    "hpi_comorbid": (
        "{m} is also present and remains stable.",
        "Coexisting {m}, managed concurrently.",
        "Additional active problem: {m}, maintained on current therapy.",
    ),
    "uncertain": (
        "Possible {dx}; further evaluation planned.",
        "{dx} is suspected but not yet confirmed.",
        "Evaluate for {dx}.",
        "Likely {dx}, pending workup.",
    ),
    "negation": (
        "Patient reports no {m}.",
        "{m}: denied.",
        "No complaint of {m}.",
        "Patient denies experiencing {m}.",
    ),
    "ruled_out": (
        "{m} has been excluded.",
        "Workup negative for {m}.",
        "Findings on exam and testing do not support {m}.",
    ),
    "family": (
        "Family history positive for {m} in {rel}.",
        "{rel} was diagnosed with {m}.",
        "Family history - {rel}: {m}.",
    ),
    "resolved": (
        "Status post {m}.",
        "Past history of {m}, now resolved.",
        "Previously had {m}; currently without active issues.",
    ),
    "history_code": (
        "Pertinent history includes {m}.",
        "Of note: {m}.",
        "Additional relevant history: {m}.",
    ),
    "assess": (
        "{m}; {plan}",
        "{m} -- {plan}",
        "Problem: {m}. Plan: {plan}",
        "{m}, plan: {plan}",
    ),
    "plan_chronic": (
        "maintain current medications.",
        "stable; same regimen, recheck in 3 months.",
        "suboptimally controlled; dose adjusted at this visit.",
        "counseled on diet, physical activity and medication adherence.",
    ),
    "plan_acute": (
        "supportive measures; reviewed when to return.",
        "treatment started as outlined below; follow up if unimproved after 1 week.",
        "discussed management of symptoms.",
        "prescription sent to the pharmacy; patient to call if worsening.",
    ),
    "plan_injury": (
        "rest, ice, compression and elevation, with activity modification and pain relievers.",
        "splinting, with orthopedic follow-up.",
        "wound care instructions reviewed; return for removal of sutures.",
    ),
    "vitals": (
        "BP {bp}, pulse {hr}, resp {rr}, temp {temp} F, SpO2 {spo2}% room air, weight {wt} lb.",
        "Vital signs - T {temp} F | P {hr} | R {rr} | BP {bp} | Sat {spo2}% | Wt {wt} lb",
        "Temp {temp} F; BP {bp}; heart rate {hr}; respirations {rr}; pulse ox {spo2}% on room air; weight {wt} lbs.",
    ),
    "exam": (
        "Constitutional: awake, alert, well appearing and in no acute distress.",
        "Respiratory: lungs clear bilaterally without wheezing.",
        "Cardiovascular: heart rate and rhythm regular; no murmur appreciated.",
        "Mental status: mood and affect appropriate.",
    ),
    "labs_result": (
        "Most recent labs - hemoglobin A1c {a1c}%, Cr {cr}, LDL {ldl}.",
        "Reviewed labs: A1c {a1c}%, potassium {k}, eGFR {egfr}.",
        "Lab data: LDL {ldl}, creatinine {cr}, HbA1c {a1c}%.",
    ),
    "meds_intro": (
        "Medication list: {meds}.",
        "Active medications include {meds}.",
        "Currently taking: {meds}.",
    ),
    "allergies": (
        "No known drug allergies.",
        "Penicillin allergy - causes rash.",
        "Drug allergies: sulfa.",
    ),
    "social": (
        "Lives with spouse and is employed full time.",
        "Social: denies alcohol abuse and illicit drug use.",
        "Retired and physically active.",
    ),
    "em_new": (
        "New patient to this office.",
        "First visit with our practice (new patient).",
        "Patient is new to this clinic.",
    ),
    "em_est": (
        "Returning established patient.",
        "Established patient, most recently seen {last} months ago.",
        "Existing patient of the practice; prior visit {last} months ago.",
    ),
    "em_time": (
        "On the date of service I spent {minutes} minutes in total on this patient, "
        "including chart review, examination, counseling and documentation.",
        "Total time on date of service: {minutes} minutes.",
        "{minutes} minutes of total time spent on this encounter today.",
        "Total time today: {minutes} min.",
    ),
    "em_mdm": (
        "MDM complexity: {mdm}.",
        "Decision making was of {mdm} complexity given {mdm_reason}.",
        "Medical decision making {mdm} - {mdm_reason}.",
        "MDM level {mdm}, based on {mdm_reason}.",
    ),
    "tele_video": (
        "Visit completed using synchronous audio-video telehealth. "
        "Patient at home and provider in the office. Patient consented.",
        "Real-time video telemedicine encounter with the patient at home; verbal consent obtained.",
        "Synchronous video visit; patient gave verbal consent and was located at home.",
    ),
    "tele_audio": (
        "Visit performed by phone, audio only, as the patient could not or chose not to use video. "
        "Patient consented.",
        "Telephone encounter, audio only; verbal consent obtained.",
        "Audio-only visit by telephone; consent given by patient.",
    ),
    "proc_consent": (
        "Discussed risks, benefits and alternatives; patient signed written consent.",
        "After review of risks, including bleeding and infection, the consent form was signed.",
        "Informed consent obtained in writing after review of risks, benefits and alternatives.",
    ),
    "proc_done": (
        "{m} completed in the office today without complications.",
        "Performed at this visit: {m}.",
        "Today in clinic we performed {m}.",
    ),
    "order_outside": (
        "Order placed for {m} at an outside imaging facility.",
        "{m} will be scheduled.",
        "Plan to arrange {m}.",
    ),
    "lab_drawn": (
        "Blood drawn in clinic today for {m}.",
        "Venipuncture done; {m} processed in the office lab.",
        "Labs obtained in the office today: {m}.",
    ),
    "poc_test": (
        "Point-of-care {m} today: {result}.",
        "In-office {m} result: {result}.",
        "{m} (POC): {result}.",
    ),
    "vaccine": (
        "{m} administered today.",
        "Vaccine given: {m}.",
        "{m} administered intramuscularly; lot number documented.",
    ),
    "vaccine_counsel": (
        "Physician counseled the parent regarding each vaccine.",
        "Parent received counseling from the physician on each vaccine.",
    ),
    "followup": (
        "Return visit in {fu}.",
        "Recheck in {fu}, sooner if needed.",
        "Next appointment in {fu}.",
    ),
    "preventive_intro": (
        "Annual physical for a {age}-year-old {sexw}.",
        "{age}-year-old {sexw} presenting for a yearly preventive exam.",
        "Routine preventive visit; patient is a {age} y/o {sexw}.",
    ),
    "well_child_intro": (
        "Well-child exam: {age_child}.",
        "Routine well-child visit for this {age_child} {sexw}, accompanied by parent.",
        "{age_child} {sexw} presenting for a well-child exam.",
    ),
    "preventive_normal": (
        "Routine adult physical; findings normal.",
        "Annual examination within normal limits.",
        "Normal findings on routine annual exam.",
    ),
    "preventive_abnormal": (
        "Annual exam with abnormal findings, detailed below.",
        "Routine physical notable for the abnormal findings listed below.",
        "Abnormal findings on routine exam; see below.",
    ),
    "separate_em": (
        "A distinct, significant problem was also addressed today: {m}.",
        "Separately identifiable problem-focused evaluation performed today for {m}.",
        "Additionally evaluated and managed {m} as a separate, significant problem.",
    ),
    "prenatal": (
        "{weeks}w{days}d by early ultrasound, G{g}P{p}.",
        "G{g} P{p}, gestational age {weeks} weeks {days} days.",
        "Gravida {g}, para {p}, at {weeks} weeks and {days} days gestation.",
    ),
    "fh_bmi": (
        "Body mass index {bmi}.",
        "BMI measured today: {bmi} kg/m2.",
        "Calculated BMI {bmi}.",
    ),
    "tetanus_due": (
        "Most recent tetanus vaccine was over 10 years ago.",
        "Tetanus immunization last given more than 10 years ago.",
    ),
    "screen_instr": (
        "PHQ-9: {phq}; GAD-7: {gad}.",
        "Depression screen (PHQ-9) administered and scored, result {phq}.",
        "GAD-7 score {gad} and PHQ-9 score {phq}.",
    ),
    "psychotherapy_time": (
        "{ptime} minutes of psychotherapy provided.",
        "Individual psychotherapy session lasted {ptime} minutes.",
        "Time spent in psychotherapy: {ptime} min.",
    ),
    "proc_narrative": (
        "Time-out completed to verify patient, site and procedure.",
        "Site prepped with chlorhexidine and draped sterilely.",
        "Local anesthesia achieved using 1% lidocaine.",
        "Patient tolerated the procedure well without complications.",
    ),
    "education": (
        "Reviewed the diagnosis, treatment options and anticipated course; patient voiced understanding.",
        "Discussed risks and benefits of medications.",
        "Detailed return precautions given.",
        "Educational handouts given to patient.",
    ),
    "ros_normal": (
        "Remainder of ROS negative except as stated in HPI.",
        "Remaining systems reviewed and are negative.",
        "Constitutional: denies fever or chills.",
    ),
    "psych_content": (
        "Applied CBT with emphasis on cognitive restructuring.",
        "Coping strategies and sleep hygiene reviewed.",
        "Reviewed safety plan; patient denies suicidal or homicidal ideation.",
    ),
}

LAYOUTS_C: dict[str, dict] = {
    "soap_c": {
        "family": "C",
        "kinds": ["office", "telehealth"],
        "sections": [
            [
                "Patient-reported history:",
                ["tele", "hpi", "pmh", "meds", "allergies", "social", "family", "ros"],
            ],
            ["Findings:", ["vitals", "exam", "results"]],
            ["Impression:", ["assessment"]],
            ["Management:", ["procedures", "plan", "em"]],
        ],
    },
    "hpi_ap_c": {
        "family": "C",
        "kinds": ["office"],
        "sections": [
            ["Reason for visit:", ["cc"]],
            ["Current symptoms and course:", ["hpi"]],
            ["Prior conditions:", ["pmh"]],
            ["Current drug list:", ["meds"]],
            ["Drug sensitivities:", ["allergies"]],
            ["Lifestyle and living situation:", ["social"]],
            ["Relatives' health:", ["family"]],
            ["Symptom checklist:", ["ros"]],
            ["Clinical findings:", ["vitals", "exam"]],
            ["Results reviewed:", ["results"]],
            ["Clinical impression and management:", ["assessment", "procedures", "plan", "em"]],
        ],
    },
    "tele_narrative_c": {
        "family": "C",
        "kinds": ["telehealth"],
        "sections": [
            ["VIRTUAL CARE ENCOUNTER", ["tele", "hpi", "meds", "family", "ros"]],
            ["Remote findings:", ["exam"]],
            ["Impression and next steps:", ["assessment", "plan", "em"]],
        ],
    },
    "procedure_note_c": {
        "family": "C",
        "kinds": ["procedure", "asc"],
        "sections": [
            ["OPERATIVE REPORT", ["hpi", "pmh", "meds", "allergies", "ros", "vitals", "exam"]],
            ["Reason(s) for intervention:", ["assessment"]],
            ["Description of technique:", ["procedures"]],
            ["Next steps:", ["plan", "em"]],
        ],
    },
    "preventive_c": {
        "family": "C",
        "kinds": ["preventive"],
        "sections": [
            ["HEALTH MAINTENANCE ENCOUNTER", ["hpi", "pmh", "meds", "allergies", "social", "family", "ros"]],
            ["Physical findings:", ["vitals", "exam", "results"]],
            ["Impression:", ["assessment"]],
            ["Recommendations / Vaccines / Preventive testing:", ["procedures", "plan", "em"]],
        ],
    },
    "psych_c": {
        "family": "C",
        "kinds": ["psych"],
        "sections": [
            ["PSYCHIATRIC FOLLOW-UP VISIT", ["tele", "hpi", "meds", "family"]],
            ["Observed presentation:", ["exam"]],
            ["Clinical formulation:", ["assessment"]],
            ["Therapeutic work and next steps:", ["procedures", "plan", "em"]],
        ],
    },
}
