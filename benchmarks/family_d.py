"""Naming family "D": independent clinician wordings for the benchmark conditions and procedures.

Provenance
----------
Written blind by a helper session, for ``benchmarks/bench_family_d.py``.  The only inputs were the
family-A name lists exported for the benchmark (condition ids, variant values and their A phrasings,
the suspected-diagnosis list, procedure codes with their A names, and the ICD-10-CM titles of the
derived items), public ICD-10-CM code descriptions, and the author's clinical knowledge.  No project
lexicon, synonym table, pipeline, model, test or data file was consulted, so family D is independent
of the wording the model was trained on.  Procedure names are plain clinician wording (no CPT
descriptor text).

Each D name keeps the clinical meaning and code specificity of the family-A names of the same item
(type, complication, stage, laterality, site, count, size, dose, contrast, first vs additional...)
and differs from every A name of that item after lower-casing and removing punctuation.

Contents
--------
* ``CONDITION_NAMES_D``: condition id -> 2-4 names.  Where the A names carry the ``{v}`` placeholder
  (the variant phrase is inserted there), the D names carry it too, and vice versa.
* ``VARIANT_PHRASES_D``: condition id -> variant value -> 1-3 phrasings, for every variant whose A
  phrasings are not all empty.  They fill the same grammatical slot as the A phrasings.  A few A
  "phrases" are non-textual markers (``"-"``); these are kept as they are.
* ``UNCERTAIN_NAMES_D``: index-aligned with the A suspected-diagnosis list.
* ``PROCEDURE_NAMES_D``: procedure code -> 2-3 plain-language names.
* ``paraphrase_d(title)``: deterministic rule-based rewrite of an ICD-10-CM title into note wording.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------------

CONDITION_NAMES_D: dict[str, list[str]] = {
    "htn": ["primary hypertension", "benign essential HTN", "longstanding hypertension"],
    "hld": ["known {v}", "{v}, longstanding"],
    "t2dm": ["type 2 diabetes {v}", "DM2 {v}", "diabetes mellitus type 2 {v}", "NIDDM {v}"],
    "t1dm": ["type I diabetes {v}", "DM type 1 {v}", "juvenile-onset diabetes mellitus {v}"],
    "prediabetes": ["borderline diabetes", "prediabetic state", "prediabetic"],
    "ckd": ["stage {v} chronic kidney disease", "chronic renal disease, stage {v}", "stage {v} CKD"],
    "hf": ["known {v}", "established {v}"],
    "cad": [
        "coronary atherosclerosis {v}",
        "atherosclerotic heart disease of native coronary artery {v}",
        "native-vessel CAD {v}",
        "ASHD {v}",
    ],
    "afib": ["known {v}", "{v}, rate-controlled"],
    "aortic_stenosis": ["calcific aortic valve stenosis", "nonrheumatic aortic stenosis", "aortic valvular stenosis"],
    "mitral_regurg": ["mitral valve regurgitation", "nonrheumatic mitral regurgitation", "mitral insufficiency"],
    "pad": [
        "{v} peripheral arterial disease with intermittent claudication",
        "peripheral artery disease of the {v} with claudication",
        "native artery atherosclerosis of the {v} with claudication",
    ],
    "obesity": ["known {v}", "{v}, longstanding"],
    "hypothyroid": ["underactive thyroid", "acquired hypothyroidism", "hypothyroid state"],
    "graves": ["Graves hyperthyroidism without thyroid storm", "toxic diffuse goiter", "Basedow disease"],
    "thyroid_nodule": ["single nontoxic thyroid nodule", "solitary nodule of the thyroid", "thyroid nodule, solitary"],
    "vitd": ["low vitamin D", "hypovitaminosis D", "vitamin D insufficiency"],
    "osteoporosis": ["senile osteoporosis", "postmenopausal osteoporosis", "osteoporosis without fracture"],
    "pcos": ["polycystic ovary syndrome", "Stein-Leventhal syndrome", "polycystic ovaries"],
    "hyperpara": ["PHPT", "hyperparathyroidism, primary", "primary hyperparathyroid disease"],
    "gerd": ["gastro-oesophageal reflux disease", "GORD", "reflux disease without esophagitis"],
    "bph": ["benign prostatic hypertrophy {v}", "enlarged prostate {v}", "prostatic hyperplasia (BPH) {v}"],
    "ed": ["impotence", "male erectile dysfunction", "erectile difficulty (ED)"],
    "gout": ["known {v}", "{v}, recurrent"],
    "anemia": ["known {v}", "{v}, under evaluation"],
    "allergic_rhinitis": ["nasal allergies", "allergic rhinitis NOS", "rhinitis, allergic"],
    "insomnia": ["sleeplessness", "insomnia NOS", "trouble sleeping (insomnia)"],
    "osa": ["obstructive sleep apnoea", "OSA syndrome", "obstructive sleep apnea syndrome"],
    "migraine": ["known {v}", "{v}, not intractable"],
    "hypokalemia": ["hypokalaemia", "low serum potassium", "potassium deficiency"],
    "tobacco": ["cigarette smoker", "tobacco dependence, cigarettes", "active cigarette smoking"],
    "alcohol_dep": ["alcoholism", "alcohol use disorder, severe", "ETOH dependence"],
    "ibs": ["irritable bowel {v}", "irritable colon {v}", "spastic colon {v}"],
    "constipation": ["constipated", "constipation NOS", "difficult infrequent bowel movements (constipation)"],
    "uti": ["urinary infection", "infection of the urinary tract", "UTI, site not specified"],
    "copd": ["known {v}", "{v}, on inhalers"],
    "asthma": ["asthma, {v}", "bronchial asthma ({v})"],
    "ild": ["pulmonary fibrosis", "fibrotic interstitial lung disease", "lung fibrosis"],
    "lung_nodule": ["solitary lung nodule", "single pulmonary nodule", "coin lesion of lung"],
    "uri": ["upper respiratory tract infection", "URTI", "acute URI"],
    "sinusitis": ["{v}, symptomatic", "{v} on exam"],
    "strep": ["strep pharyngitis", "streptococcal sore throat", "group A strep pharyngitis"],
    "pharyngitis": ["acute sore throat", "sore throat", "pharyngitis, acute"],
    "bronchitis": ["acute tracheobronchitis", "acute bronchitis NOS", "acute bronchial infection"],
    "covid": ["SARS-CoV-2 infection", "COVID", "coronavirus disease 2019"],
    "influenza": ["flu A", "influenza A infection", "influenza A with respiratory symptoms"],
    "pneumonia": ["CAP", "pneumonia NOS", "pneumonia, organism not identified"],
    "mdd_single": [
        "single episode of major depression, {v}",
        "single-episode MDD ({v})",
        "major depression, first episode, {v}",
    ],
    "mdd_recurrent": [
        "recurrent major depression, {v}",
        "MDD, recurrent episode, {v}",
        "recurrent major depressive disorder, {v}",
    ],
    "gad": ["generalised anxiety disorder", "generalized anxiety", "GAD (generalized anxiety)"],
    "panic": ["panic disorder without agoraphobia", "episodic paroxysmal anxiety", "recurrent panic attacks"],
    "ptsd": ["{v} posttraumatic stress disorder (PTSD)", "{v} PTSD, trauma-related"],
    "adhd": ["{v} ADHD", "{v} attention deficit hyperactivity disorder"],
    "bipolar": ["bipolar affective disorder, {v}", "bipolar illness, {v}", "manic-depressive illness, {v}"],
    "adjustment": ["adjustment reaction {v}", "situational adjustment disorder {v}"],
    "knee_oa": ["{v} knee osteoarthritis", "primary OA of the {v} knee", "{v} knee DJD"],
    "hip_oa": ["{v} hip osteoarthritis", "primary OA of the {v} hip", "{v} hip DJD"],
    "rotator_cuff": [
        "atraumatic {v} rotator cuff tear",
        "{v} shoulder rotator cuff tear, degenerative",
        "nontraumatic tear of the {v} rotator cuff",
    ],
    "impingement": [
        "{v} subacromial impingement",
        "{v} shoulder impingement syndrome",
        "impingement of the {v} shoulder",
    ],
    "lat_epi": ["{v} elbow lateral epicondylitis", "tennis elbow, {v}", "{v} lateral epicondylitis"],
    "carpal_tunnel": [
        "{v} median nerve entrapment at the wrist",
        "CTS, {v}",
        "{v} wrist carpal tunnel syndrome",
    ],
    "trigger_finger": ["{v} trigger digit", "{v} stenosing flexor tenosynovitis"],
    "plantar_fasciitis": ["plantar fasciopathy", "inflamed plantar fascia", "plantar fasciitis of the heel"],
    "low_back_pain": ["lower back pain", "lumbar back pain", "lumbalgia"],
    "vertebrogenic": [
        "vertebrogenic lower back pain",
        "low back pain of vertebrogenic origin",
        "vertebral endplate (vertebrogenic) low back pain",
    ],
    "lumbar_radic": ["radiculopathy of the lumbar spine", "lumbar nerve root radiculopathy", "lumbar radiculitis"],
    "disc_radic": [
        "herniated lumbar disc with radiculopathy",
        "lumbar HNP with radiculopathy",
        "lumbar disc displacement with radiculopathy",
    ],
    "ddd_lumbar": [
        "degenerative disc disease of the lumbar spine {v}",
        "lumbar disc degeneration {v}",
        "DDD, lumbar {v}",
    ],
    "spondylosis": [
        "lumbar facet arthrosis without myelopathy or radiculopathy",
        "lumbar spondylosis, no myelopathy or radiculopathy",
        "degenerative lumbar spondylosis without radiculopathy or myelopathy",
    ],
    "cervical_spondylosis": [
        "cervical spondylosis, no myelopathy or radiculopathy",
        "cervical facet arthrosis without myelopathy or radiculopathy",
        "degenerative cervical spondylosis without radiculopathy or myelopathy",
    ],
    "neck_pain": ["cervical pain", "pain in the neck", "neckache"],
    "cervical_radic": ["radiculopathy of the cervical spine", "cervical radiculitis", "cervical nerve root radiculopathy"],
    "chronic_pain": ["chronic pain syndrome (CPS)", "longstanding chronic pain syndrome"],
    "myofascial": ["myofascial pain", "myofascial syndrome with trigger points", "myofascial pain disorder"],
    "fibromyalgia": ["fibromyalgia syndrome", "FMS", "fibrositis"],
    "si_joint": ["inflammation of the sacroiliac joint", "SI joint sacroiliitis", "sacroiliitis NEC"],
    "knee_pain": ["{v} knee arthralgia", "knee pain, {v}", "{v} knee discomfort"],
    "shoulder_pain": ["{v} shoulder arthralgia", "shoulder pain, {v}", "{v} shoulder discomfort"],
    "meniscus": [
        "{v} knee medial meniscal tear",
        "torn medial meniscus of the {v} knee",
        "{v} medial meniscal tear, acute",
    ],
    "ankle_sprain": ["{v} ankle ligament sprain", "sprained {v} ankle", "{v} ankle sprain, ligament not specified"],
    "wrist_fx": ["{v} distal radial fracture", "fractured {v} distal radius", "{v} distal radius fx"],
    "clavicle_fx": ["{v} collarbone fracture", "fractured {v} clavicle", "{v} clavicular fracture"],
    "finger_fx": ["fractured {v}", "{v} fx", "displaced fracture of the {v}"],
    "lac_hand": ["{v} hand lac", "laceration to the {v} hand", "cut to the {v} hand"],
    "lac_forearm": ["{v} forearm lac", "laceration to the {v} forearm", "cut on the {v} forearm"],
    "lac_leg": ["{v} lower leg laceration", "laceration to the {v} lower leg", "{v} calf laceration"],
    "lac_scalp": ["laceration to the scalp", "scalp lac", "cut on the scalp"],
    "lac_face": ["chin lac", "laceration to the chin", "cut on the chin"],
    "bee_sting": ["reaction to bee sting", "honeybee sting with local reaction", "bee envenomation, accidental"],
    "acne": ["common acne", "acne vulgaris of the face", "comedonal acne"],
    "psoriasis": ["chronic plaque psoriasis", "psoriasis, plaque type", "plaque-type psoriasis vulgaris"],
    "atopic": ["atopic eczema", "atopic dermatitis flare", "eczematous dermatitis, atopic"],
    "contact_derm": ["allergic contact eczema", "contact dermatitis, allergic", "ACD (allergic contact dermatitis)"],
    "ak": ["solar keratosis", "solar keratoses", "senile keratosis"],
    "sk": ["{v} lesion", "{v}, clinically benign"],
    "warts": ["{v}, viral", "symptomatic {v}"],
    "cyst": ["epidermal cyst", "inclusion cyst, epidermal type", "EIC of skin"],
    "nevus": ["{v} mole", "benign mole on the {v}", "melanocytic naevus of the {v}"],
    "bcc": ["{v} basal cell carcinoma", "basal cell skin cancer of the {v}", "nodular BCC, {v}"],
    "scc": [
        "cutaneous squamous cell carcinoma of the {v}",
        "{v} cSCC",
        "squamous cell skin cancer on the {v}",
    ],
    "abscess": ["skin abscess of the {v}", "{v} skin abscess", "abscess on the {v}"],
    "cellulitis": ["cellulitis involving the {v}", "{v} soft tissue cellulitis", "cellulitis, {v}"],
    "ingrown": ["onychocryptosis", "ingrowing toenail", "ingrown nail"],
    "skin_tag": ["acrochordon", "single skin tag", "cutaneous tags"],
    "rosacea": ["acne rosacea", "facial rosacea", "rosacea of the face"],
    "tinea": ["foot ringworm", "tinea of the feet", "dermatophytosis of the foot"],
    "otitis": ["middle ear infection, {v}", "otitis media, {v}", "OM, {v}"],
    "conjunctivitis": ["acute conjunctivitis, {v}", "{v} acute conjunctivitis", "pinkeye, {v}"],
    "gastroenteritis": ["viral enteritis", "acute viral gastroenteritis", "gastroenteritis due to virus"],
    "hfm": ["HFM disease", "hand foot mouth disease", "enteroviral vesicular stomatitis with rash"],
    "croup": ["acute obstructive laryngitis", "croup syndrome", "croup (laryngotracheal obstruction)"],
    "bronchiolitis": ["bronchiolitis due to RSV", "acute RSV bronchiolitis", "respiratory syncytial virus bronchiolitis"],
    "diaper_derm": ["nappy rash", "diaper area dermatitis", "napkin dermatitis"],
    "peds_fever": ["pyrexia", "febrile illness", "temperature elevation"],
    "peds_obesity": ["pediatric obesity", "obesity in childhood", "obese child"],
    "prenatal": [
        "routine prenatal care, {v} pregnancy",
        "normal {v} pregnancy, supervision visit",
        "prenatal check for {v} normal pregnancy",
    ],
    "gdm": [
        "gestational diabetes mellitus {v}",
        "diabetes of pregnancy (gestational) {v}",
        "pregnancy-induced diabetes {v}",
    ],
    "preg_htn": ["pregnancy-induced hypertension", "PIH without proteinuria", "gestational HTN"],
    "menorrhagia": ["heavy periods", "excessive menstrual bleeding", "hypermenorrhea"],
    "dysmenorrhea": ["menstrual cramps", "dysmenorrhoea", "period pain"],
    "pmb": ["postmenopausal vaginal bleeding", "bleeding after menopause", "uterine bleeding after menopause"],
    "menopause": ["menopausal hot flushes", "menopausal symptoms", "climacteric state"],
    "candida": ["vaginal yeast infection", "vulvovaginal thrush", "candidal vulvovaginitis"],
    "bv": ["BV", "Gardnerella vaginosis", "bacterial vaginosis (Gardnerella)"],
    "contraception_iud": [
        "visit for IUD placement",
        "IUD insertion encounter",
        "encounter for intrauterine device insertion",
    ],
    "contraception_implant": [
        "initial contraceptive implant prescription",
        "first prescription of a subdermal contraceptive implant",
        "starting Nexplanon (subdermal implant), initial prescription",
    ],
    "contraception_depo": [
        "injectable contraceptive surveillance",
        "DMPA contraception maintenance",
        "Depo shot follow-up (injectable contraception)",
    ],
    "abnl_pap": ["ASCUS Pap", "Pap smear showing ASC-US", "ASC-US on Pap test"],
    "colon_polyp": ["colonic polyp", "polyp in the colon", "large bowel polyp"],
    "hernia": [
        "inguinal hernia, unilateral, uncomplicated",
        "one-sided inguinal hernia without obstruction or gangrene",
        "uncomplicated unilateral inguinal hernia",
    ],
    "gallstones": [
        "cholelithiasis without cholecystitis or obstruction",
        "gallbladder stones, no cholecystitis",
        "uncomplicated gallstones",
    ],
    "cataract": [
        "nuclear sclerosis cataract, {v} eye",
        "senile nuclear cataract of the {v} eye",
        "{v} eye nuclear cataract, age-related",
    ],
    "dysphagia": ["difficulty swallowing", "swallowing difficulty", "trouble swallowing"],
    "gastritis": ["chronic gastritis, no bleeding", "chronic gastritis without hemorrhage", "nonbleeding chronic gastritis"],
    "barretts": ["Barrett esophagus without dysplasia", "Barrett's oesophagus, no dysplasia", "nondysplastic Barrett's esophagus"],
    "hematuria": ["visible hematuria", "macroscopic haematuria", "gross blood in the urine"],
    "elevated_psa": ["raised PSA", "PSA elevation", "high PSA level"],
    "chest_pain": ["c/o {v}", "{v}, new onset"],
    "palpitations": ["heart palpitations", "awareness of heartbeat", "palpitation"],
    "syncope": ["fainting episode", "syncopal episode", "passed out (syncope)"],
    "sob": ["short of breath", "DOE"],
    "cough": ["c/o {v}", "{v}, nonproductive"],
    "fever": ["pyrexia", "elevated temperature", "fevers"],
    "headache": ["cephalgia", "head pain", "headaches"],
    "dysuria": ["painful urination", "pain with urination", "burning on urination"],
    "abd_pain": ["c/o {v}", "{v}, intermittent"],
    "nausea": ["nausea and vomiting", "nausea/vomiting", "vomiting with nausea"],
    "fatigue": ["tiredness", "fatigued", "lack of energy"],
    "dizziness": ["dizzy spells", "giddiness", "feeling dizzy"],
    "rash": ["skin rash", "skin eruption", "nonspecific rash"],
    "leg_pain": ["{v} lower leg pain", "{v} shin pain", "lower leg pain, {v}"],
    "edema": ["bilateral ankle edema", "localised oedema", "pedal edema"],
    "wt_loss": ["unexplained weight loss", "unintended weight loss", "losing weight unintentionally"],
    "elevated_bp": [
        "high blood pressure reading without hypertension diagnosis",
        "elevated BP without diagnosis of HTN",
        "isolated elevated blood pressure reading, no HTN diagnosis",
    ],
    "former_smoker": ["ex-smoker", "history of tobacco dependence", "quit cigarettes years ago"],
    "hx_colon_polyps": ["hx of colonic polyps", "prior colon polyps", "history of polyps of the colon"],
    "hx_breast_ca": ["breast cancer survivor", "hx of breast cancer", "history of malignant neoplasm of the breast"],
    "hx_dvt": ["hx of DVT", "prior deep venous thrombosis", "history of blood clot in the leg"],
    "fhx_colon_ca": ["FHx of colon cancer", "family hx of colorectal cancer", "colon cancer in a first-degree relative"],
    "fhx_breast_ca": ["FHx of breast cancer", "family hx breast cancer", "breast cancer in the family"],
    "fhx_cad": ["FHx of CAD", "family history of coronary artery disease", "family hx of heart disease"],
    "anticoag": ["on long-term anticoagulation", "chronic anticoagulant therapy", "long term blood thinner use"],
    "insulin_use": ["long-term insulin therapy", "on chronic insulin", "insulin-requiring, long-term"],
    "oral_hypoglycemic": [
        "on oral hypoglycemic agents",
        "long-term oral diabetes medication use",
        "chronic use of oral antidiabetic drugs",
    ],
    "stent_status": ["status post coronary stenting", "has a coronary stent", "history of PCI with stent"],
    "pacemaker": ["pacemaker in place", "status post permanent pacemaker", "has a cardiac pacemaker"],
}



def _lat(*sides: str) -> dict[str, list[str]]:
    """Short side phrasings ("R knee OA"), a fresh dict per condition."""
    table = {"R": ["R", "rt"], "L": ["L", "lt"], "B": ["bilat"]}
    return {side: list(table[side]) for side in sides}


VARIANT_PHRASES_D: dict[str, dict[str, list[str]]] = {
    "hld": {
        "unspec": ["hyperlipidaemia", "elevated lipids", "dyslipidaemia"],
        "chol": ["high cholesterol", "hypercholesterolaemia", "pure hypercholesterolaemia"],
        "mixed": ["mixed dyslipidemia", "combined hyperlipidaemia", "mixed hyperlipidaemia"],
        "tg": ["high triglycerides", "elevated triglycerides", "hypertriglyceridaemia"],
    },
    "t2dm": {
        "none": ["w/o complications", "with no complications", "with no end-organ complications"],
        "hyper": ["with hyperglycaemia", "with high blood sugars", "poorly controlled, hyperglycemic"],
        "neuro": ["with peripheral diabetic neuropathy", "with DPN (diabetic polyneuropathy)", "with distal symmetric diabetic polyneuropathy"],
        "retino": ["with diabetic retinopathy, no macular edema", "with retinopathy, no DME"],
        "hypo": ["with hypoglycaemia", "with low blood sugar episodes", "with hypoglycemic reactions, no coma"],
        "foot": ["with diabetic ulcer of the foot", "with plantar foot ulcer", "with ulceration of the foot"],
        "ckd": ["with diabetic CKD", "with CKD secondary to diabetes"],
    },
    "t1dm": {
        "none": ["w/o complications", "with no complications"],
        "hyper": ["with hyperglycaemia", "poorly controlled, with high sugars"],
        "hypo": ["with hypoglycaemia", "with low blood sugar episodes"],
    },
    "ckd": {
        "1": ["I", "G1"],
        "2": ["II", "G2"],
        "3": ["III"],
        "3a": ["IIIa", "G3a"],
        "3b": ["IIIb", "G3b"],
        "4": ["IV", "G4"],
        "5": ["V", "G5"],
    },
    "hf": {
        "csys": ["chronic HFrEF", "chronic systolic congestive heart failure", "chronic heart failure with reduced ejection fraction"],
        "cdia": ["chronic HFpEF", "chronic diastolic congestive heart failure", "chronic heart failure with preserved EF"],
        "ccomb": ["chronic combined systolic and diastolic CHF", "chronic combined systolic/diastolic HF"],
        "acsys": ["acute on chronic systolic CHF", "acute on chronic HFrEF", "acute exacerbation of chronic systolic heart failure"],
        "acdia": ["acute on chronic diastolic CHF", "acute on chronic HFpEF", "acute exacerbation of chronic diastolic heart failure"],
        "unspec": ["heart failure", "congestive cardiac failure", "CCF"],
    },
    "cad": {
        "none": ["with no angina", "without anginal symptoms", "w/o angina"],
        "stable": ["with stable angina pectoris", "with chronic stable angina", "with stable exertional angina"],
    },
    "afib": {
        "parox": ["paroxysmal AF", "PAF", "intermittent (paroxysmal) atrial fibrillation"],
        "persist": ["persistent AFib", "persistent a-fib"],
        "perm": ["permanent AF", "permanent atrial fib"],
        "unspec": ["AF", "atrial fib", "auricular fibrillation"],
    },
    "pad": {
        "R": ["right lower extremity", "RLE"],
        "L": ["left lower extremity", "LLE"],
        "B": ["bilateral lower extremities", "BLE"],
    },
    "obesity": {
        "c1": ["obesity class I", "class I obesity", "grade 1 obesity"],
        "c2": ["obesity class II", "class II obesity", "grade 2 obesity"],
        "c3": ["obesity class III", "class III obesity", "grade 3 obesity"],
        "morbid": [
            "morbid obesity from excess caloric intake",
            "severe (morbid) obesity due to excessive calories",
            "morbid obesity secondary to excess calories",
        ],
        "unspec": ["obesity NOS", "adiposity"],
    },
    "bph": {
        "True": ["with LUTS including nocturia", "with nocturia and other lower urinary tract symptoms"],
        "False": ["without LUTS", "without urinary symptoms"],
    },
    "gout": {
        "acute": ["gouty arthritis", "acute gout attack", "gout attack"],
        "chronic": ["chronic gout, no tophi", "chronic gouty arthritis without tophus", "non-tophaceous chronic gout"],
    },
    "anemia": {
        "iron": ["iron-deficiency anaemia", "anemia due to iron deficiency", "Fe deficiency anemia"],
        "unspec": ["anaemia", "anemia NOS"],
        "b12": ["B12-deficiency anaemia", "cobalamin deficiency anemia", "anemia due to vitamin B12 deficiency"],
    },
    "migraine": {
        "plain": ["migraines", "migrainous headache", "migraine cephalgia"],
        "aura": ["classic migraine", "migraine with visual aura", "classical migraine"],
        "chronic": ["chronic migraine, no aura", "chronic migraine headache without aura"],
    },
    "ibs": {
        "d": ["with diarrhoea", "with predominant diarrhea"],
        "c": ["with predominant constipation", "with constipation predominance"],
    },
    "copd": {
        "stable": ["chronic obstructive lung disease", "chronic obstructive airways disease", "stable COPD"],
        "exac": ["acute exacerbation of chronic obstructive pulmonary disease", "COPD flare", "exacerbation of COPD"],
        "lri": ["COPD with superimposed acute bronchitis", "COPD complicated by acute bronchitis", "acute bronchitis on COPD"],
    },
    "asthma": {
        "mild_int": ["intermittent mild", "mild intermittent, uncomplicated"],
        "mild_int_ex": ["mild intermittent, exacerbated", "mild intermittent with flare"],
        "mild_pers": ["persistent mild", "mild persistent, uncomplicated"],
        "mild_pers_ex": ["mild persistent with acute exacerbation", "mild persistent, exacerbated"],
        "mod_pers": ["persistent moderate", "moderate persistent, uncomplicated"],
        "mod_pers_ex": ["moderate persistent with acute exacerbation", "moderate persistent, flaring"],
        "sev_pers": ["persistent severe", "severe persistent, uncomplicated"],
        "sev_pers_ex": ["severe persistent with exacerbation", "severe persistent, acutely exacerbated"],
        "unspec": ["uncomplicated, severity not specified", "stable uncomplicated"],
    },
    "sinusitis": {
        "max": ["acute maxillary rhinosinusitis", "acute sinusitis of the maxillary sinus", "acute maxillary sinus infection"],
        "unspec": ["acute sinus infection", "acute sinusitis NOS"],
        "recur": ["recurrent acute sinusitis", "recurring acute sinus infections"],
        "chronic": ["chronic rhinosinusitis", "chronic sinus infection", "CRS"],
    },
    "mdd_single": {
        "mild": ["mild severity", "mild in severity"],
        "moderate": ["moderate severity", "moderate in severity"],
        "severe": ["severe without psychosis", "severe, nonpsychotic"],
        "unspec": ["unspecified severity", "severity not specified"],
    },
    "mdd_recurrent": {
        "mild": ["mild severity", "current episode mild"],
        "moderate": ["moderate severity", "current episode moderate"],
        "severe": ["severe, no psychotic features", "current episode severe without psychosis"],
        "partial": ["partially remitted", "in partial remission currently"],
        "full": ["fully remitted", "in complete remission"],
    },
    "ptsd": {
        "chronic": ["long-standing", "chronic (>3 months)"],
        "acute": ["recent-onset acute", "acute (<3 months)"],
    },
    "adhd": {
        "inatt": ["inattentive type", "predominantly inattentive presentation"],
        "hyper": ["hyperactive-impulsive type", "predominantly hyperactive-impulsive presentation"],
        "comb": ["combined presentation type", "mixed inattentive and hyperactive type"],
    },
    "bipolar": {
        "remit": ["in remission", "currently remitted"],
        "depressed": ["current episode depressed (mild-moderate)", "currently depressed, mild to moderate"],
        "unspec": ["NOS", "type not specified"],
    },
    "adjustment": {
        "dep": ["with depression", "with depressed mood features"],
        "mixed": ["with mixed anxiety and depression", "with anxious and depressed mood"],
        "anx": ["with anxious mood", "with anxiety features"],
    },
    "knee_oa": _lat("R", "L", "B"),
    "hip_oa": _lat("R", "L", "B"),
    "rotator_cuff": _lat("R", "L"),
    "impingement": _lat("R", "L"),
    "lat_epi": _lat("R", "L"),
    "carpal_tunnel": _lat("R", "L", "B"),
    "trigger_finger": {
        "R1": ["R thumb", "rt thumb"],
        "L1": ["L thumb", "lt thumb"],
        "R2": ["R index finger", "right second finger"],
        "L2": ["L index finger", "left second finger"],
        "R3": ["R middle finger", "right long finger"],
        "L3": ["L middle finger", "left long finger"],
        "R4": ["R ring finger", "right fourth finger"],
        "L4": ["L ring finger", "left fourth finger"],
        "R5": ["R small finger", "right pinky"],
        "L5": ["L small finger", "left pinky"],
    },
    "ddd_lumbar": {
        "disco": ["with discogenic low back pain only", "with axial discogenic pain only, no leg pain"],
        "both": ["with discogenic back pain and leg pain", "with discogenic low back and lower extremity pain"],
        "none": ["without back or leg pain", "with no back or lower extremity pain"],
    },
    "knee_pain": _lat("R", "L", "B"),
    "shoulder_pain": _lat("R", "L", "B"),
    "meniscus": _lat("R", "L"),
    "ankle_sprain": _lat("R", "L"),
    "wrist_fx": _lat("R", "L"),
    "clavicle_fx": _lat("R", "L"),
    "finger_fx": {
        "R5": ["proximal phalanx of the right little finger", "right fifth finger proximal phalanx"],
        "L5": ["proximal phalanx of the left little finger", "left fifth finger proximal phalanx"],
        "R3": ["proximal phalanx of the right middle finger", "right long finger proximal phalanx"],
        "L3": ["proximal phalanx of the left middle finger", "left long finger proximal phalanx"],
    },
    "lac_hand": _lat("R", "L"),
    "lac_forearm": _lat("R", "L"),
    "lac_leg": _lat("R", "L"),
    # "-" is a non-textual marker in family A (the names carry no {v}); kept unchanged.
    "lac_scalp": {"-": ["-"]},
    "lac_face": {"-": ["-"]},
    "bee_sting": {"-": ["-"]},
    "bv": {"-": ["-"]},
    "sk": {
        "infl": ["inflamed SK", "irritated SK", "inflamed seborrhoeic keratosis"],
        "other": ["SK", "seborrhoeic keratosis", "seborrheic wart"],
    },
    "warts": {
        "common": ["common wart", "verrucae vulgares"],
        "plantar": ["verruca plantaris", "plantar verruca"],
    },
    "nevus": {
        "trunk": ["torso", "upper back", "abdomen"],
        "rarm": ["right upper arm", "right shoulder"],
        "larm": ["left upper arm", "left forearm"],
        "rleg": ["right thigh", "right lower leg"],
        "lleg": ["left thigh", "left shin"],
    },
    "bcc": {
        "nose": ["nasal tip", "nasal bridge"],
        "face": ["forehead", "chin"],
        "trunk": ["upper back", "abdominal wall"],
        "rarm": ["right forearm", "right upper arm"],
        "larm": ["left forearm", "left shoulder"],
        "scalp": ["neck", "crown of the scalp"],
    },
    "scc": {
        "rarm": ["right forearm", "right upper arm"],
        "larm": ["left forearm", "back of the left hand"],
        "scalp": ["neck", "vertex of the scalp"],
        "trunk": ["upper back", "chest"],
    },
    "abscess": {
        "rax": ["right armpit", "R axilla"],
        "lax": ["left armpit", "L axilla"],
        "butt": ["gluteal region", "buttocks"],
        "rthigh": ["right leg", "R thigh"],
        "lthigh": ["left leg", "L thigh"],
    },
    "cellulitis": {
        "R": ["right leg", "RLE"],
        "L": ["left leg", "LLE"],
    },
    "otitis": {
        "R": ["R ear", "right side"],
        "L": ["L ear", "left side"],
        "B": ["both sides", "bilaterally"],
    },
    "conjunctivitis": {
        "R": ["OD", "R eye"],
        "L": ["OS", "L eye"],
        "B": ["OU", "bilateral eyes"],
    },
    "prenatal": {
        "first": ["primigravid", "G1"],
        "other": ["multigravid", "second or later"],
    },
    "gdm": {
        "diet": ["managed with diet alone", "diet-managed (A1GDM)"],
        "insulin": ["requiring insulin", "insulin-requiring"],
        "oral": ["on metformin", "on oral hypoglycemic agents"],
    },
    "preg_htn": {
        "1": ["first trimester", "1st trimester"],
        "2": ["second trimester", "2nd trimester"],
        "3": ["third trimester", "3rd trimester"],
    },
    "cataract": _lat("R", "L"),
    "chest_pain": {
        "unspec": ["CP", "pain in the chest"],
        "atypical": ["anterior chest wall pain", "atypical CP", "chest pressure"],
        "pleur": ["pleuritic CP", "pleuritic pain"],
    },
    "sob": {
        "sob": ["short of breath", "SOB at rest"],
        "doe": ["DOE", "dyspnoea on exertion"],
    },
    "cough": {
        "acute": ["cough of recent onset", "cough for 1 week", "acute-onset cough"],
        "chronic": ["cough for over 8 weeks", "long-standing cough", "chronic persistent cough"],
        "unspec": ["coughing", "tussis"],
    },
    "abd_pain": {
        "rlq": ["right lower abdominal pain", "RLQ pain", "pain in the right lower quadrant"],
        "llq": ["left lower abdominal pain", "LLQ abdominal pain", "pain in the left lower quadrant"],
        "epi": ["epigastric abdominal pain", "pain in the epigastrium", "epigastralgia"],
        "ruq": ["right upper abdominal pain", "RUQ abdominal pain", "pain in the right upper quadrant"],
        "unspec": ["abd pain", "belly pain", "pain in the abdomen"],
    },
    "leg_pain": _lat("R", "L"),
}

# ---------------------------------------------------------------------------------------------------
# Suspected diagnoses (index-aligned with the family-A "uncertain" list)
# ---------------------------------------------------------------------------------------------------

UNCERTAIN_NAMES_D: list[list[str]] = [
    ["CAP", "community-acquired pneumonia", "pneumonic process"],
    ["urinary infection", "infection of the urinary tract", "bladder or kidney infection"],
    ["migraine headache", "migraines", "migrainous headache"],
    ["acute appendicitis", "appy", "inflamed appendix"],
    ["angina pectoris", "cardiac ischemia", "myocardial ischemia"],
    ["deep venous thrombosis", "blood clot in the leg", "deep vein clot"],
    ["cardiac dysrhythmia", "supraventricular tachycardia", "irregular heart rhythm"],
    ["chronic obstructive pulmonary disease", "chronic obstructive lung disease", "obstructive airways disease"],
    ["CHF", "congestive heart failure", "cardiac failure"],
    ["underactive thyroid", "hypothyroid state", "low thyroid function"],
    ["benign paroxysmal positional vertigo", "vestibular neuronitis", "benign positional vertigo"],
    ["viral rash", "drug rash", "medication-induced rash"],
]

# ---------------------------------------------------------------------------------------------------
# Procedures (plain clinician wording; no CPT descriptor text)
# ---------------------------------------------------------------------------------------------------

PROCEDURE_NAMES_D: dict[str, list[str]] = {
    "0502F": ["follow-up prenatal visit", "return OB visit", "routine prenatal follow-up"],
    "10005": ["US-guided FNA of thyroid nodule", "thyroid nodule fine-needle aspiration under ultrasound", "ultrasound-guided thyroid FNA biopsy"],
    "10060": ["simple I&D of skin abscess", "abscess incised and drained, single", "I and D of a boil"],
    "10061": ["complex I&D of abscess", "I&D of multiple abscesses", "complicated abscess drainage with packing"],
    "10120": ["simple removal of foreign body under the skin", "subcutaneous FB extraction, uncomplicated", "splinter removed from subcutaneous tissue"],
    "11102": ["shave biopsy of skin lesion, single", "tangential skin biopsy, first lesion", "skin shave bx, one lesion"],
    "11103": ["shave biopsy of an additional lesion", "second shave bx", "additional tangential skin biopsy"],
    "11104": ["punch biopsy of skin, single lesion", "skin punch bx, first site", "punch skin biopsy of one lesion"],
    "11105": ["punch biopsy of an additional lesion", "second punch bx", "additional skin punch biopsy"],
    "11200": ["skin tag removal, up to 15 tags", "snip removal of acrochordons (15 or fewer)", "excision of skin tags, 15 or fewer"],
    "11730": ["partial avulsion of nail plate", "partial toenail avulsion", "nail plate partially removed"],
    "11750": ["partial nail plate removal with matrix ablation", "ingrown nail wedge excision with matricectomy", "permanent partial nail removal with matrixectomy"],
    "11981": ["Nexplanon placement", "etonogestrel implant insertion", "subdermal contraceptive rod inserted"],
    "16020": ["small partial-thickness burn dressed", "dressing applied to small second-degree burn", "care of small partial-thickness burn with dressing"],
    "17000": ["cryo of premalignant lesion, first lesion", "LN2 to actinic keratosis, first lesion", "destruction of one AK with cryotherapy"],
    "17003": ["cryo to additional AKs (2-14)", "liquid nitrogen for second through 14th actinic keratosis", "each additional AK destroyed"],
    "17004": ["cryo of 15+ actinic keratoses", "destruction of 15 or more AKs", "field LN2 to 15 or more premalignant lesions"],
    "17110": ["cryo of benign lesions, up to 14", "LN2 to warts (fewer than 15)", "destruction of up to 14 warts"],
    "17111": ["destruction of 15+ benign lesions", "cryotherapy to 15 or more warts", "LN2 to multiple warts (15 or more)"],
    "20526": ["injection of carpal tunnel", "steroid injection into the carpal tunnel", "CTS injection"],
    "20550": ["tendon sheath steroid injection", "flexor tendon sheath injection for trigger finger", "plantar fascia steroid injection"],
    "20552": ["trigger point injection, one or two muscles", "TPI to 1-2 muscles", "trigger point injections to two muscles"],
    "20553": ["trigger point injections, three or more muscles", "TPIs to 3+ muscles", "multiple-muscle trigger point injections (3 or more)"],
    "20605": ["injection into an intermediate-size joint", "wrist joint steroid injection", "acromioclavicular joint injection"],
    "20610": ["major joint injection without ultrasound guidance", "intra-articular knee steroid injection", "knee aspiration"],
    "20611": ["major joint injection with ultrasound guidance", "US-guided intra-articular knee injection", "shoulder injection under ultrasound"],
    "25600": ["closed treatment of distal radius fracture, no reduction", "non-operative care of distal radius fracture without reduction", "distal radius fracture managed closed without manipulation"],
    "26055": ["release of trigger finger", "A1 pulley release", "open tendon sheath release for trigger finger"],
    "27096": ["SI joint injection under fluoroscopy", "sacroiliac joint steroid injection with imaging", "fluoroscopically guided SIJ injection"],
    "29125": ["static short-arm splint", "application of short arm splint", "volar forearm splint placed"],
    "29130": ["splint applied to finger", "finger splinting", "static finger splint placed"],
    "29540": ["strapping of the ankle", "ankle taping", "ankle taped"],
    "29580": ["Unna's boot applied", "zinc paste (Unna) boot application", "Unna boot placed"],
    "29881": ["arthroscopic partial medial meniscectomy, knee", "knee scope with partial medial meniscectomy", "arthroscopic knee surgery with partial medial meniscus removal"],
    "30901": ["anterior nasal packing, simple", "nosebleed controlled with anterior packing", "cautery of anterior epistaxis"],
    "36415": ["blood draw", "blood sample drawn from a vein", "routine venipuncture for labs"],
    "43235": ["upper endoscopy, diagnostic", "upper GI endoscopy", "diagnostic upper endoscopy"],
    "43239": ["upper endoscopy with biopsy", "EGD with biopsies", "upper GI endoscopy with biopsy"],
    "45378": ["colonoscopy, diagnostic", "diagnostic lower endoscopy (colonoscopy)", "colonoscopy with no biopsies taken"],
    "45380": ["colonoscopy with biopsy (cold forceps)", "colonoscopy and biopsies", "colonoscopy with biopsies"],
    "45385": ["colonoscopy, polyp removed by snare", "colonoscopy with snare removal of polyp", "snare polypectomy at colonoscopy"],
    "46221": ["banding of internal hemorrhoids", "internal hemorrhoid rubber banding", "hemorrhoidal band ligation"],
    "47562": ["lap chole", "laparoscopic gallbladder removal", "laparoscopic removal of the gallbladder"],
    "49505": ["open repair of inguinal hernia", "inguinal herniorrhaphy, open", "open inguinal herniorrhaphy"],
    "52000": ["cystoscopy", "diagnostic cystoscopy", "office bladder scope"],
    "55700": ["prostate biopsy via transrectal approach", "transrectal needle biopsy of the prostate", "TRUS prostate biopsy"],
    "57452": ["colpo", "cervical colposcopy", "colposcopic examination of the cervix"],
    "57454": ["colposcopy with cervical biopsies and endocervical curettage", "colpo with biopsy and ECC", "colposcopy, cervical bx plus ECC"],
    "58100": ["endometrial sampling", "EMB", "office endometrial biopsy"],
    "58300": ["intrauterine device placement", "IUD placed", "insertion of IUD"],
    "62321": ["cervical ESI, interlaminar, with fluoro", "fluoroscopically guided cervical interlaminar epidural", "interlaminar C-spine epidural steroid injection under fluoroscopy"],
    "62323": ["lumbar ESI, interlaminar, under fluoroscopy", "fluoroscopically guided lumbar interlaminar epidural", "interlaminar L-spine epidural steroid injection"],
    "64483": ["lumbar TFESI, one level", "single-level transforaminal epidural injection, lumbar", "lumbar transforaminal ESI at one level"],
    "64484": ["each additional lumbar transforaminal level", "second level lumbar transforaminal ESI", "add-on level lumbar TFESI"],
    "64490": ["cervical facet injection, single level", "cervical medial branch block, first level", "first-level cervical facet block"],
    "64491": ["cervical facet injection, 2nd level", "second-level cervical facet block", "cervical medial branch block, second level"],
    "64493": ["lumbar facet injection, single level", "first-level lumbar medial branch block", "lumbar facet block, one level"],
    "64494": ["lumbar facet injection, 2nd level", "second-level lumbar medial branch block", "lumbar facet block, second level"],
    "64628": ["basivertebral nerve RFA, first 2 vertebral levels", "intraosseous basivertebral nerve ablation, first two levels", "Intracept procedure, two levels"],
    "64633": ["cervical facet RFA, single joint", "cervical medial branch radiofrequency ablation, first joint", "cervical facet neurotomy, first level"],
    "64635": ["lumbar facet RFA, single joint", "lumbar medial branch radiofrequency neurotomy, first joint", "lumbar facet denervation, first level"],
    "64636": ["lumbar facet RFA, additional joint", "each additional lumbar facet joint ablated", "lumbar radiofrequency neurotomy, add-on level"],
    "64721": ["open CTR", "carpal tunnel release, open technique", "open median nerve decompression at the carpal tunnel"],
    "65205": ["foreign body removed from conjunctiva", "conjunctival FB removal", "removal of FB from the conjunctival surface"],
    "66984": ["cataract surgery with IOL", "phaco with lens implant", "cataract removal with intraocular lens placement"],
    "69210": ["impacted earwax removed with curette", "removal of impacted ear wax", "curettage of impacted cerumen"],
    "71045": ["chest radiograph, one view", "CXR single view", "portable AP chest film"],
    "71046": ["chest radiograph, two views", "2-view CXR", "PA and lateral chest film"],
    "71250": ["non-contrast CT of the chest", "CT thorax without IV contrast", "noncontrast chest CT"],
    "71271": ["LDCT lung screening", "low-dose chest CT for lung cancer screening", "annual LDCT for lung cancer"],
    "72040": ["C-spine x-ray, 2-3 views", "cervical spine radiographs (2 or 3 views)", "C-spine films"],
    "72100": ["L-spine x-ray, 2-3 views", "lumbar spine radiographs (2 or 3 views)", "L-spine films"],
    "72141": ["non-contrast MRI of the cervical spine", "C-spine MRI without contrast", "MRI C-spine w/o contrast"],
    "72148": ["non-contrast MRI of the lumbar spine", "L-spine MRI without contrast", "MRI L-spine w/o contrast"],
    "72170": ["pelvic radiograph, 1-2 views", "AP pelvis film", "x-ray of the pelvis"],
    "73000": ["collarbone x-ray", "clavicle radiograph", "x-ray of the clavicle"],
    "73030": ["shoulder radiographs, minimum 2 views", "shoulder films", "x-ray of the shoulder, 2 or more views"],
    "73060": ["humerus radiograph, 2 views", "upper arm x-ray", "x-ray of the humerus"],
    "73070": ["elbow radiograph, 2 views", "elbow films", "x-ray of the elbow, AP and lateral"],
    "73090": ["forearm radiograph, 2 views", "forearm films", "x-ray of the forearm"],
    "73100": ["wrist radiograph, 2 views", "2-view wrist films", "wrist x-ray, AP and lateral"],
    "73110": ["wrist radiograph, 3 views", "3-view wrist films", "complete wrist series"],
    "73120": ["hand radiograph, 2 views", "2-view hand films", "hand x-ray, PA and lateral"],
    "73130": ["hand radiograph, 3 views", "3-view hand films", "complete hand series"],
    "73140": ["finger radiograph, 2+ views", "x-ray of the finger", "digit x-ray"],
    "73221": ["non-contrast MRI of the shoulder", "MRI of upper extremity joint without contrast", "elbow MRI without contrast"],
    "73502": ["hip radiographs, 2-3 views", "unilateral hip films with pelvis", "x-ray of the hip"],
    "73560": ["knee radiograph, 1-2 views", "2-view knee films", "x-ray of the knee, AP and lateral"],
    "73562": ["knee radiograph, 3 views", "3-view knee series", "knee films AP, lateral and sunrise"],
    "73590": ["lower leg x-ray, 2 views", "tib/fib radiographs", "x-ray of tibia and fibula"],
    "73600": ["ankle radiograph, 2 views", "2-view ankle films", "ankle x-ray, AP and lateral"],
    "73610": ["ankle radiograph, 3 views", "3-view ankle series", "complete ankle films"],
    "73620": ["foot radiograph, 2 views", "2-view foot films", "foot x-ray, AP and lateral"],
    "73630": ["foot radiograph, 3 views", "3-view foot series", "complete foot films"],
    "73650": ["calcaneal radiograph", "x-ray of the heel", "calcaneus films"],
    "73721": ["non-contrast MRI of the knee", "MRI of lower extremity joint without contrast", "ankle MRI w/o contrast"],
    "74018": ["abdominal radiograph, single view", "KUB film", "plain abdominal x-ray, one view"],
    "74177": ["CT of abdomen and pelvis with IV contrast", "contrast-enhanced CT A/P", "CT A/P with contrast"],
    "76536": ["ultrasound of the thyroid", "thyroid sonogram", "thyroid/neck ultrasound"],
    "76700": ["full abdominal ultrasound", "complete abdominal sonogram", "abdominal US, complete"],
    "76705": ["RUQ sonogram", "limited abdominal US (right upper quadrant)", "gallbladder ultrasound"],
    "76805": ["second-trimester OB ultrasound", "fetal anatomy ultrasound", "obstetric ultrasound beyond the first trimester"],
    "76815": ["limited obstetric ultrasound", "bedside OB scan", "quick OB ultrasound for fluid check"],
    "76830": ["TVUS", "pelvic ultrasound, transvaginal", "transvaginal sonogram"],
    "77067": ["bilateral screening mammography", "routine screening mammogram", "screening mammo, both breasts"],
    "77080": ["bone densitometry (DXA)", "DXA bone density", "BMD scan"],
    "78452": ["SPECT myocardial perfusion stress test", "nuclear cardiac stress imaging", "Lexiscan nuclear stress test"],
    "80048": ["basic metabolic profile", "BMP panel", "electrolytes, BUN, creatinine and glucose panel"],
    "80053": ["comprehensive metabolic profile", "complete metabolic panel", "CMP panel"],
    "80061": ["lipid profile", "cholesterol panel", "lipids"],
    "80069": ["renal panel", "renal function profile", "kidney panel"],
    "80076": ["liver function tests", "LFT panel", "liver panel"],
    "80178": ["serum lithium", "lithium concentration", "Li level"],
    "80305": ["office urine drug screen", "POC urine tox screen", "point-of-care urine drug test"],
    "81001": ["UA with microscopic exam", "urinalysis, microscopic", "urine analysis with micro"],
    "81002": ["dipstick urinalysis (manual)", "manual urine dip", "office urine dipstick"],
    "81003": ["automated UA, no microscopy", "automated urine dipstick", "machine-read urinalysis without micro"],
    "81025": ["urine beta-hCG", "office urine pregnancy test", "UPT"],
    "82043": ["microalbuminuria test", "urine albumin level, quantitative", "urine microalbumin level"],
    "82274": ["fecal immunochemical test", "stool FIT", "immunochemical fecal occult blood test"],
    "82306": ["25-hydroxy vit D", "25-hydroxyvitamin D level", "vit D level"],
    "82310": ["calcium", "Ca level", "serum Ca"],
    "82565": ["creatinine", "serum Cr", "blood creatinine"],
    "82570": ["creatinine, urine", "urine Cr", "urinary creatinine"],
    "82607": ["B12 level", "serum B12", "cyanocobalamin level"],
    "82728": ["serum ferritin", "ferritin test"],
    "82947": ["glucose level", "serum glucose", "FBS"],
    "82950": ["1-hr glucose tolerance screen", "one-hour GCT", "50 g glucose challenge"],
    "83001": ["follicle stimulating hormone", "serum FSH", "FSH level"],
    "83036": ["glycated hemoglobin", "A1C level", "HgbA1c"],
    "83540": ["iron level", "serum Fe", "iron, serum"],
    "83735": ["Mg level", "serum Mg"],
    "83880": ["natriuretic peptide", "B-type natriuretic peptide", "NT-proBNP level"],
    "83970": ["parathyroid hormone", "parathyroid hormone level", "PTH level"],
    "84132": ["K level", "potassium level", "serum K"],
    "84146": ["prolactin level", "serum prolactin", "PRL"],
    "84153": ["prostate-specific antigen", "PSA level", "serum PSA"],
    "84403": ["testosterone level", "total testosterone level", "serum total T"],
    "84439": ["FT4", "free thyroxine level", "free T4 level"],
    "84443": ["thyroid stimulating hormone", "TSH level", "serum TSH"],
    "84481": ["FT3", "free triiodothyronine", "free T3 level"],
    "84550": ["serum uric acid", "uric acid level", "urate"],
    "84703": ["qualitative serum pregnancy test", "serum beta-hCG, qualitative", "blood pregnancy test (qualitative)"],
    "85025": ["CBC w/ diff", "complete blood count with diff", "full blood count with differential"],
    "85027": ["CBC w/o diff", "CBC, no differential", "complete blood count, no diff"],
    "85610": ["INR", "prothrombin time", "PT with INR"],
    "85652": ["sed rate", "sedimentation rate", "Westergren ESR"],
    "86038": ["antinuclear antibody", "ANA test", "antinuclear antibody screen"],
    "86140": ["C-reactive protein", "CRP level", "serum CRP"],
    "86431": ["RF", "RF titer", "rheumatoid factor level"],
    "86580": ["Mantoux test placed", "PPD skin test planted", "TST"],
    "86592": ["syphilis RPR", "rapid plasma reagin", "RPR test"],
    "86677": ["Helicobacter pylori antibody", "H pylori serology", "H. pylori IgG"],
    "86762": ["rubella IgG antibody", "rubella immunity", "rubella serology"],
    "86803": ["HCV antibody", "hep C Ab", "hepatitis C serology"],
    "86850": ["indirect antiglobulin test", "red cell antibody screen", "indirect Coombs test"],
    "86900": ["ABO type", "blood type (ABO)", "ABO grouping"],
    "86901": ["Rh factor", "RhD typing", "Rh status testing"],
    "87070": ["bacterial culture of wound", "wound swab culture", "culture of abscess fluid"],
    "87086": ["urine culture, colony count", "quantitative urine culture", "urine bacterial culture"],
    "87210": ["wet prep", "vaginal wet prep", "saline wet prep"],
    "87340": ["HBsAg", "hep B surface antigen test", "HBV surface antigen"],
    "87389": ["HIV Ag/Ab combo", "4th-gen HIV test", "HIV-1/2 combo screen"],
    "87491": ["Chlamydia trachomatis NAAT", "chlamydia PCR", "CT PCR"],
    "87591": ["Neisseria gonorrhoeae NAAT", "gonorrhea PCR", "GC NAAT"],
    "87624": ["HPV high-risk typing", "hrHPV testing", "high-risk HPV NAAT"],
    "87635": ["SARS-CoV-2 PCR", "COVID-19 NAAT", "SARS-CoV-2 RNA test"],
    "87804": ["rapid influenza antigen", "flu A/B rapid antigen", "rapid influenza test"],
    "87811": ["rapid SARS-CoV-2 antigen", "COVID antigen rapid test", "COVID-19 rapid antigen card"],
    "87880": ["rapid strep swab", "rapid group A strep test", "RADT for strep"],
    "90620": ["meningococcal B vaccine (Bexsero)", "Bexsero", "MenB shot"],
    "90633": ["hep A vaccine, pediatric dose", "pediatric hepatitis A vaccine", "hepatitis A shot (child dose)"],
    "90647": ["PedvaxHIB", "Hib vaccine (PRP-OMP)", "Haemophilus influenzae type b vaccine, 3-dose"],
    "90651": ["Gardasil 9", "9-valent HPV vaccine", "HPV9 vaccine"],
    "90656": ["preservative-free trivalent flu shot", "trivalent influenza vaccine, no preservative", "flu vaccine IIV3 preservative free"],
    "90662": ["Fluzone High-Dose", "high-dose flu shot", "HD influenza vaccine"],
    "90671": ["Vaxneuvance (PCV15)", "15-valent pneumococcal conjugate vaccine", "pneumococcal conjugate 15"],
    "90677": ["Prevnar 20", "20-valent pneumococcal conjugate vaccine", "PCV20"],
    "90680": ["RotaTeq", "oral rotavirus vaccine (pentavalent, 3 doses)", "rotavirus vaccine, 3-dose series"],
    "90686": ["quadrivalent flu shot, preservative free", "IIV4 preservative free", "preservative-free quadrivalent influenza vaccine"],
    "90698": ["Pentacel", "DTaP-IPV-Hib combination shot", "DTaP/IPV/Hib combo vaccine"],
    "90700": ["diphtheria, tetanus and acellular pertussis vaccine", "DTaP shot", "DTaP immunization"],
    "90707": ["measles-mumps-rubella vaccine", "MMR shot", "MMR immunization"],
    "90713": ["IPV", "inactivated poliovirus vaccine", "polio shot (IPV)"],
    "90714": ["tetanus-diphtheria booster", "Td vaccine", "Td immunization"],
    "90715": ["Tdap booster", "tetanus, diphtheria and acellular pertussis booster", "Boostrix/Adacel"],
    "90716": ["chickenpox vaccine", "Varivax", "varicella immunization"],
    "90723": ["Pediarix", "DTaP-HepB-IPV combo shot", "DTaP/hep B/IPV combination vaccine"],
    "90732": ["Pneumovax 23", "23-valent pneumococcal polysaccharide vaccine", "PPSV23"],
    "90734": ["meningococcal conjugate vaccine (MenACWY)", "Menactra/Menveo", "quadrivalent meningococcal conjugate vaccine"],
    "90744": ["pediatric hepatitis B vaccine", "hep B vaccine, child dose", "Engerix-B pediatric"],
    "90750": ["Shingrix", "shingles vaccine (recombinant)", "RZV"],
    "90791": ["initial psychiatric evaluation", "psych intake assessment", "diagnostic psychiatric interview"],
    "90832": ["30-minute psychotherapy session", "individual therapy, 30 min", "psychotherapy (30 min)"],
    "90833": ["30-minute psychotherapy add-on with E/M visit", "add-on therapy 30 min with medical visit", "psychotherapy 30 min performed with E/M"],
    "90834": ["45-minute psychotherapy session", "individual therapy, 45 min", "psychotherapy (45 min)"],
    "90836": ["45-minute psychotherapy add-on with E/M", "add-on therapy 45 min with medical visit", "psychotherapy 45 min performed with E/M"],
    "90837": ["60-minute psychotherapy session", "individual therapy, 60 min", "one-hour psychotherapy"],
    "92551": ["pure-tone audiometric screening", "hearing screen, pure tone air only", "audiometry screening"],
    "93000": ["EKG, tracing read in clinic", "12-lead EKG with read", "electrocardiogram, 12-lead, interpreted"],
    "93015": ["exercise ECG stress test", "Bruce protocol stress test", "treadmill exercise stress test"],
    "93224": ["Holter monitor for 48 hours", "48-hr Holter", "ambulatory ECG Holter, 48 hours"],
    "93242": ["extended-wear ECG patch placed", "Zio patch placement", "long-term ambulatory ECG patch applied"],
    "93288": ["pacemaker check in person", "in-office pacemaker interrogation", "PPM interrogation, in clinic"],
    "93306": ["TTE with Doppler", "complete transthoracic echo", "cardiac echo with color Doppler"],
    "93880": ["bilateral carotid duplex ultrasound", "carotid doppler", "carotid artery ultrasound"],
    "93922": ["ABI testing", "ankle brachial index testing", "ankle-brachial pressure index"],
    "93925": ["arterial duplex of the legs", "bilateral lower-extremity arterial duplex", "LE arterial ultrasound"],
    "93971": ["venous duplex of one leg", "unilateral lower-extremity venous Doppler", "single-leg DVT ultrasound"],
    "94010": ["spirometry without bronchodilator", "simple spirometry", "PFT spirometry only"],
    "94060": ["bronchodilator-response spirometry", "spirometry before and after albuterol", "spirometry with bronchodilator reversibility"],
    "94618": ["6MW test", "six minute walk", "6-min walk test"],
    "94640": ["albuterol nebulizer", "neb treatment", "inhaled bronchodilator via nebulizer"],
    "94664": ["inhaler education", "MDI technique teaching", "spacer/inhaler instruction"],
    "94726": ["lung volumes by body box", "body plethysmography", "plethysmographic lung volumes"],
    "94729": ["diffusing capacity", "DLCO measurement", "carbon monoxide diffusing capacity"],
    "94760": ["pulse ox", "SpO2 check", "oxygen saturation by pulse oximeter"],
    "95004": ["skin prick allergy testing", "prick testing to allergens", "prick-method allergy tests"],
    "95115": ["single allergen immunotherapy injection", "allergy shot, one injection", "one allergy immunotherapy injection"],
    "95117": ["allergen immunotherapy, multiple injections", "two or more allergy shots", "allergy immunotherapy injections (2+)"],
    "95250": ["continuous glucose monitor placement with patient training", "CGM sensor start and teaching", "Dexcom/Libre sensor placed with training"],
    "95251": ["CGM report interpretation", "interpretation of continuous glucose monitoring data", "CGM download review and analysis"],
    "95806": ["HSAT", "home sleep study", "unattended home sleep apnea study"],
    "95810": ["attended sleep study in lab", "overnight PSG", "in-center polysomnogram"],
    "95907": ["NCS, 1 to 2 studies", "nerve conduction testing, two studies", "nerve conduction studies (1-2)"],
    "96110": ["ASQ-3 screening", "developmental screening questionnaire", "Ages & Stages Questionnaire"],
    "96127": ["PHQ-9 screen", "GAD-7 screening questionnaire", "standardized behavioral health screening instrument"],
    "96160": ["HRA", "patient-completed health risk questionnaire", "health risk assessment, patient-focused"],
    "96161": ["caregiver HRA", "maternal depression screening at well child visit", "Edinburgh Postnatal Depression Scale for caregiver"],
    "96360": ["IV fluid hydration, first hour", "IV hydration, initial hour", "IV fluids over the first hour"],
    "96372": ["intramuscular shot", "therapeutic IM injection", "SC/IM medication injection"],
    "96910": ["UVB light therapy", "narrowband UVB phototherapy", "ultraviolet B phototherapy"],
    "99173": ["Snellen eye chart screening", "visual acuity check", "vision screening (Snellen)"],
    "99401": ["preventive counseling, 15 min", "15 minutes of preventive health counseling", "prevention-focused health behavior counseling, 15 min"],
    "99406": ["tobacco cessation counseling, 3-10 min", "brief smoking cessation counseling (3-10 minutes)", "quit-smoking counseling, under 10 minutes"],
    "99407": ["tobacco cessation counseling >10 min", "smoking cessation counseling, more than 10 minutes", "extended quit-smoking counseling"],
    "99497": ["ACP discussion, first 30 min", "advance directive discussion, first 30 minutes", "advance care planning conversation (30 min)"],
    "G0101": ["Medicare screening pelvic and breast exam", "screening pelvic exam with clinical breast exam", "pelvic and clinical breast exam, screening"],
    "G0105": ["high-risk screening colonoscopy", "colonoscopy for screening, high-risk patient", "screening colonoscopy in a high-risk individual"],
    "G0121": ["average-risk screening colonoscopy", "colonoscopy for screening, not high risk", "routine colorectal cancer screening colonoscopy"],
    "G0442": ["yearly alcohol misuse screen", "AUDIT-C screening", "annual alcohol use screening"],
    "G0444": ["annual depression screen, 15 min", "yearly depression screening", "PHQ-2/PHQ-9 annual screen"],
    "G0447": ["intensive behavioral therapy for obesity, 15 min", "face-to-face weight counseling, 15 minutes", "obesity IBT session"],
    "G2211": ["visit complexity add-on (longitudinal care)", "ongoing longitudinal care add-on", "complexity add-on for continuing care relationship"],
    "J0561": ["Bicillin L-A", "benzathine penicillin G injection", "benzathine penicillin shot"],
    "J0696": ["ceftriaxone injection", "IM Rocephin", "Rocephin shot"],
    "J1010": ["methylprednisolone acetate injection", "Depo-Medrol 40 mg", "intramuscular methylprednisolone acetate"],
    "J1050": ["Depo-Provera shot", "DMPA injection", "Depo shot"],
    "J1100": ["Decadron", "IM dexamethasone", "dexamethasone sodium phosphate injection"],
    "J1200": ["IM Benadryl", "diphenhydramine injection", "Benadryl shot"],
    "J1885": ["IM Toradol", "ketorolac injection", "Toradol shot"],
    "J2405": ["IV Zofran", "ondansetron injection", "Zofran IM"],
    "J2550": ["IM Phenergan", "promethazine injection", "Phenergan shot"],
    "J3301": ["triamcinolone injection", "Kenalog-10", "triamcinolone acetonide injection"],
    "J3420": ["vitamin B12 injection", "IM cyanocobalamin", "B12 shot"],
    "J7030": ["NS 1 L", "1000 cc normal saline", "one liter NS"],
    "J7298": ["Mirena IUD", "Mirena levonorgestrel intrauterine system", "Mirena LNG-IUS"],
    "J7307": ["Nexplanon rod", "etonogestrel subdermal implant", "etonogestrel implant system"],
    "J7325": ["Synvisc-One knee injection", "hylan G-F 20 (Synvisc-One)", "single-injection hyaluronic acid (Synvisc-One)"],
    "L3000": ["custom foot orthotics", "molded custom shoe inserts", "custom orthotic insoles"],
    "L3908": ["cock-up wrist splint", "prefabricated wrist-hand orthosis", "wrist cock-up brace"],
    "L4361": ["pneumatic walker boot", "air cast walking boot", "CAM walker boot (pneumatic)"],
    "Q0091": ["Pap collection", "cervical cytology specimen obtained", "Pap smear obtained (screening)"],
}

# ---------------------------------------------------------------------------------------------------
# Rule-based paraphraser for ICD-10-CM titles
# ---------------------------------------------------------------------------------------------------

# Title-initial words that are proper names and keep their capital letter.
_EPONYMS = {
    "Addison", "Alport", "Alzheimer", "Asperger", "Baker", "Barrett", "Bartholin", "Behcet", "Bell", "Bowen",
    "Buerger", "Burkitt", "Charcot", "Charcôt", "Conn", "Crohn", "Cushing", "Down", "Dupuytren", "Evans",
    "Fabry", "Fanconi", "Felty", "Gaucher", "Goodpasture", "Graves", "Hashimoto", "Hirschsprung", "Hodgkin",
    "Horner", "Huntington", "Kaposi", "Kawasaki", "Kienbock", "Klinefelter", "Lafora", "Legg", "Lyme",
    "Marfan", "Meckel", "Meniere", "Ménière", "Mooren", "Morquio", "Noonan", "Osgood", "Paget", "Parkinson",
    "Peyronie", "Pompe", "Raynaud", "Reiter", "Reye", "Scheuermann", "Schmorl", "Sheehan", "Sjogren",
    "Sjögren", "Still", "Takayasu", "Tietze", "Tourette", "Turner", "Von", "Wegener", "Wernicke", "Whipple",
    "Wilms", "Wilson", "Wolff", "Zellweger", "Zenker",
}

# Phrases that contain commas or must be rewritten before the title is split at its commas.
_PRE_RULES: list[tuple[str, str]] = [
    (r"\bsedative, hypnotic,? or anxiolytic\b", "sedative-hypnotic"),
    (r"\blocalized swelling, mass and lump\b", "localized swelling/lump"),
    (r"\bswelling, mass and lump\b", "swelling/lump"),
    (r"\bstrain of muscle, fascia and tendon\b", "muscle/tendon strain"),
    (r"\bstrain of muscle and tendon\b", "musculotendinous strain"),
    (r"\bcalculus of gallbladder and bile duct\b", "gallbladder and bile duct stones"),
    (r"\bswelling, mass or lump\b", "swelling/lump"),
    (r",? unspecified (?=(?:with|without|affecting|in|due to)\b)", " "),
    (r"\s+(?:of|affecting|in) unspecified (?:eyes?|ears?|side|sites?)\b", ""),
    (r"\bunspecified as acute or chronic\b", "not specified as acute or chronic"),
    (r"\bunspecified as to\b", "not specified as to"),
    (r"\b(part|organ involvement|cause|valve|organism) unspecified\b", r"\1 not specified"),
    (r"\bvon willebrand disease\b", "vWD"),
    (r"\bunspecified whether\b", "not specified whether"),
    (r"\bof unspecified duration\b", "of unknown duration"),
    (r"\bchronic or unspecified\b", "chronic or NOS"),
    (r"\bnot elsewhere classified\b", "NEC"),
    (r"\bin diseases classified elsewhere\b", "secondary to another disease"),
    (r"\bhemorrhage from\b", "bleeding from"),
    (r"\b(with|without|both|and|or) hemorrhage\b", r"\1 bleeding"),
]

# Formal ICD wording -> wording clinicians use in notes.  Applied in order, once each, case-insensitive,
# on word boundaries.  Only substitutions that keep the code unchanged are listed.
_CLINICAL_TERMS: list[tuple[str, str]] = [
    # stones, ulcers, abscesses
    (r"calculus of gallbladder", "gallstone"),
    (r"calculus of bile duct", "bile duct stone"),
    (r"calculus of kidney", "kidney stone"),
    (r"calculus of ureter", "ureteral stone"),
    (r"calculus in bladder", "bladder stone"),
    (r"calculus of urethra", "urethral stone"),
    (r"calculus", "stone"),
    (r"cutaneous abscess", "skin abscess"),
    (r"non-?pressure chronic ulcer", "chronic ulcer"),
    (r"pressure ulcer", "pressure injury"),
    (r"peptic ulcer, site NOS", "PUD"),
    (r"gastric ulcer", "stomach ulcer"),
    (r"hemorrhage", "bleed"),
    # abbreviations that clinicians use routinely
    (r"gastro-esophageal reflux disease", "GERD"),
    (r"chronic obstructive pulmonary disease", "COPD"),
    (r"urinary tract infection", "UTI"),
    (r"acute upper respiratory infection", "acute URI"),
    (r"upper respiratory infection", "URI"),
    (r"respiratory syncytial virus", "RSV"),
    (r"human immunodeficiency virus", "HIV"),
    (r"herpesviral", "HSV"),
    (r"herpes zoster", "shingles"),
    (r"zoster", "herpes zoster"),
    (r"varicella", "chickenpox"),
    (r"streptococcal", "strep"),
    (r"staphylococcal", "staph"),
    (r"escherichia coli", "E. coli"),
    (r"acute myocardial infarction", "acute MI"),
    (r"myocardial infarction", "MI"),
    (r"atrial fibrillation", "AFib"),
    (r"atrial flutter", "a-flutter"),
    (r"supraventricular tachycardia", "SVT"),
    (r"ventricular tachycardia", "VT"),
    (r"congestive heart failure", "CHF"),
    (r"cerebral infarction", "ischemic stroke"),
    (r"transient cerebral ischemic attack", "TIA"),
    (r"pulmonary embolism", "PE"),
    (r"abdominal aortic aneurysm", "AAA"),
    (r"embolism and thrombosis", "thromboembolism"),
    (r"phlebitis and thrombophlebitis", "phlebitis/thrombophlebitis"),
    (r"angina pectoris", "angina"),
    (r"hypertension", "HTN"),
    (r"benign prostatic hyperplasia", "BPH"),
    (r"lower urinary tract symptoms", "LUTS"),
    (r"obstructive sleep apnea", "OSA"),
    (r"attention-deficit hyperactivity disorder", "ADHD"),
    (r"post-traumatic stress disorder", "PTSD"),
    (r"major depressive disorder", "MDD"),
    (r"generalized anxiety disorder", "GAD"),
    (r"obsessive-compulsive disorder", "OCD"),
    (r"irritable bowel syndrome", "IBS"),
    (r"systemic lupus erythematosus", "SLE"),
    (r"multiple sclerosis", "MS"),
    (r"amyotrophic lateral sclerosis", "ALS"),
    (r"carpal tunnel syndrome", "CTS"),
    (r"tuberculosis", "TB"),
    (r"gastrointestinal", "GI"),
    (r"cerebrospinal fluid", "CSF"),
    (r"temporomandibular joint", "TMJ"),
    (r"anterior cruciate ligament", "ACL"),
    (r"posterior cruciate ligament", "PCL"),
    (r"medial collateral ligament", "MCL"),
    (r"lateral collateral ligament", "LCL"),
    (r"metacarpophalangeal", "MCP"),
    (r"proximal interphalangeal", "PIP"),
    (r"distal interphalangeal", "DIP"),
    (r"metatarsophalangeal", "MTP"),
    (r"acromioclavicular", "AC"),
    (r"rheumatoid arthritis", "RA"),
    (r"osteoarthritis", "OA"),
    (r"type 2 diabetes mellitus", "T2DM"),
    (r"type 1 diabetes mellitus", "T1DM"),
    (r"diabetes mellitus", "diabetes"),
    (r"chronic kidney disease", "CKD"),
    (r"end stage renal disease", "ESRD"),
    (r"acute kidney failure", "acute renal failure"),
    (r"hepatic failure", "liver failure"),
    (r"cirrhosis of liver", "liver cirrhosis"),
    (r"age-related macular degeneration", "AMD"),
    (r"sensorineural hearing loss", "SNHL"),
    (r"erectile dysfunction", "ED"),
    (r"low back pain", "LBP"),
    (r"intervertebral disc", "spinal disc"),
    # lay / clinical wording
    (r"contusion", "bruise"),
    (r"cerumen", "earwax"),
    (r"ear drum", "eardrum"),
    (r"tympanic membrane", "eardrum"),
    (r"urticaria", "hives"),
    (r"furuncle", "boil"),
    (r"hordeolum", "stye"),
    (r"melanocytic nevi", "moles"),
    (r"xerosis cutis", "dry skin"),
    (r"tinea pedis", "athlete's foot"),
    (r"tinea cruris", "jock itch"),
    (r"tinea unguium", "onychomycosis"),
    (r"tinea corporis", "body ringworm"),
    (r"tinea capitis", "scalp ringworm"),
    (r"syncope and collapse", "fainting"),
    (r"dizziness and giddiness", "dizziness"),
    (r"nausea with vomiting", "nausea and vomiting"),
    (r"tendinitis", "tendonitis"),
    (r"thyrotoxic crisis or storm", "thyroid storm"),
    (r"thyrotoxicosis", "hyperthyroidism"),
    (r"hyperkalemia", "high potassium"),
    (r"hypokalemia", "low potassium"),
    (r"hyponatremia", "low sodium"),
    (r"hypernatremia", "high sodium"),
    (r"hypocalcemia", "low calcium"),
    (r"hypomagnesemia", "low magnesium"),
    (r"hyperglycemia", "high blood sugar"),
    (r"hypoglycemia", "low blood sugar"),
    (r"vitamin d deficiency", "low vitamin D"),
    (r"influenza", "flu"),
    (r"sickle-cell", "sickle cell"),
    (r"hb-ss disease", "HbSS sickle cell disease"),
    (r"cervix uteri", "cervix"),
    (r"menstruation", "menses"),
    (r"small intestine", "small bowel"),
    (r"large intestine", "large bowel"),
    (r"benign neoplasm", "benign tumor"),
    (r"lipomatous neoplasm", "lipoma"),
    (r"neoplasm", "tumor"),
    (r"thorax", "chest"),
    (r"eyelid", "lid"),
    (r"lower limbs?", "leg"),
    (r"upper limbs?", "arm"),
    (r"lower extremity", "leg"),
    (r"great toe", "big toe"),
    (r"little finger", "small finger"),
    (r"foreign body", "FB"),
    (r"burn of first degree", "first-degree burn"),
    (r"burn of second degree", "second-degree burn"),
    (r"burn of third degree", "third-degree burn"),
    (r"first trimester", "1st trimester"),
    (r"second trimester", "2nd trimester"),
    (r"third trimester", "3rd trimester"),
    (r"personal history of", "hx of"),
    (r"family history of", "family hx of"),
    (r"long term \(?current\)? use of", "long-term use of"),
    (r"encounter for", "visit for"),
    (r"abdominal pain", "abd pain"),
    (r"abdominal tenderness", "abd tenderness"),
    (r"abdominal rigidity", "abd rigidity"),
    (r"right upper quadrant", "RUQ"),
    (r"left upper quadrant", "LUQ"),
    (r"right lower quadrant", "RLQ"),
    (r"left lower quadrant", "LLQ"),
    (r"not intractable", "non-intractable"),
    (r"without status (epilepticus|migrainosus)", r"no status \1"),
    (r"following", "after"),
    (r"complicating a procedure", "during a procedure"),
    (r"due to(?!(?: [\w-]+){0,3}? [\w-]*(?:virus|viral|bacter|cocc|organism|fung|plasma|bacillus))", "secondary to"),
    (r"cannabis-induced", "marijuana-induced"),
    (r"cannabis", "marijuana"),
    (r"other stimulant", "non-cocaine stimulant"),
    (r"nicotine dependence", "nicotine use disorder"),
    (r"unilateral", "one-sided"),
]
# Lay wording that is only safe when the term opens the title (e.g. not "degenerative myopia").
_LAY_TERMS: list[tuple[str, str]] = [
    (r"epistaxis", "nosebleed"),
    (r"pruritus", "itching"),
    (r"anogenital pruritus", "anogenital itching"),
    (r"diplopia", "double vision"),
    (r"myopia", "nearsightedness"),
    (r"hypermetropia", "farsightedness"),
    (r"otalgia", "ear pain"),
    (r"hemoptysis", "coughing up blood"),
    (r"wheezing", "wheeze"),
    (r"dysphagia", "difficulty swallowing"),
    (r"dysuria", "painful urination"),
    (r"cervicalgia", "neck pain"),
    (r"myalgia", "muscle pain"),
    (r"hematemesis", "vomiting blood"),
    (r"melena", "black tarry stools"),
    (r"pyrexia", "fever"),
    (r"xerostomia", "dry mouth"),
    (r"halitosis", "bad breath"),
    (r"hyperhidrosis", "excessive sweating"),
    (r"enuresis", "bedwetting"),
    (r"nocturnal enuresis", "nighttime bedwetting"),
    (r"insomnia", "sleeplessness"),
    (r"heartburn", "pyrosis"),
    (r"flatulence", "excess gas"),
    (r"hiccough", "hiccups"),
]
_LAY_RULES = [(re.compile(r"^" + pat + r"(?![\w-])", re.IGNORECASE), rep) for pat, rep in _LAY_TERMS]
_CLINICAL_RULES = [(re.compile(r"\b" + pat + r"(?![\w-])", re.IGNORECASE), rep) for pat, rep in _CLINICAL_TERMS]
_PRE_COMPILED = [(re.compile(pat, re.IGNORECASE), rep) for pat, rep in _PRE_RULES]

# Substance use disorder wording (DSM-5 style; "abuse" = mild, "dependence" = moderate/severe use disorder).
_SUBSTANCE_RE = re.compile(
    r"\b(alcohol|opioid|cannabis|cocaine|sedative-hypnotic|hallucinogen|inhalant|other stimulant|"
    r"other psychoactive substance) (abuse|dependence)\b",
    re.IGNORECASE,
)

# British spellings, used for a deterministic share of titles and as a fallback.
_BRITISH: list[tuple[str, str]] = [
    (r"\bhem(?=at|o|orrh)", "haem"),
    (r"\bhyperem", "hyperaem"),
    (r"(?<=[a-z])emia\b", "aemia"),
    (r"(?<=[a-z])emic\b", "aemic"),
    (r"\bedema", "oedema"),
    (r"(?<=[a-np-z])edema", "oedema"),
    (r"\besophag", "oesophag"),
    (r"(?<=[a-np-z])esophag", "oesophag"),
    (r"\bestr", "oestr"),
    (r"\bpediatric", "paediatric"),
    (r"\borthoped", "orthopaed"),
    (r"\btumor", "tumour"),
    (r"rrhea\b", "rrhoea"),
    (r"\bdyspnea", "dyspnoea"),
    (r"\bapnea", "apnoea"),
    (r"\bceliac", "coeliac"),
    (r"\bischem", "ischaem"),
    (r"\banesthe", "anaesthe"),
    (r"\bcecum", "caecum"),
    (r"\bfetal", "foetal"),
    (r"(?<=[a-z])iz(e|ed|ation)\b", r"is\1"),
    (r"\bleukem", "leukaem"),
    (r"\bgynecolog", "gynaecolog"),
]
_BRITISH_RULES = [(re.compile(p, re.IGNORECASE), r) for p, r in _BRITISH]

# Nouns that read naturally after their site ("fracture of femur" -> "femur fracture").
_REORDER_NOUNS = {
    "fracture", "fractures", "laceration", "bruise", "contusion", "abrasion", "sprain", "dislocation",
    "subluxation", "injury", "wound", "bite", "burn", "cyst", "cysts", "polyp", "polyps", "abscess",
    "cellulitis", "pain", "swelling", "mass", "lump", "stenosis", "stricture", "perforation", "atrophy",
    "hypertrophy", "ulcer", "fistula", "torsion", "rupture", "hematoma", "necrosis", "inflammation",
    "endometriosis", "osteomyelitis", "boil", "furuncle", "carbuncle", "lymphangitis", "stone", "calculus",
    "obstruction", "prolapse", "deformity", "ankylosis", "contracture", "effusion", "stiffness",
    "instability", "osteolysis", "osteonecrosis", "moles", "nevi", "disorder", "disorders", "infection",
    "insufficiency", "dysfunction", "paralysis", "palsy", "varices", "aneurysm", "thrombosis", "embolism",
    "occlusion", "spasm", "hemorrhage", "bleed", "edema", "erosion", "concretions", "degeneration",
    "adhesions", "enlargement", "retention", "gangrene", "rash", "luxation", "dermatitis", "lesion",
    "lesions", "calcification", "hyperplasia", "dilatation", "diverticulitis", "diverticulosis",
    "angiodysplasia", "cirrhosis", "hypoplasia", "tenderness", "arthropathy", "tendonitis", "tendinitis",
    "bursitis", "synovitis", "ectropion", "entropion", "trichiasis", "ptosis", "leukoplakia", "amputation",
    "cholesteatoma", "granuloma", "fissure", "ulceration", "hyperkeratosis",
}
_IN_REORDER = {"pain", "lump", "mass", "swelling", "stone", "calculus"}
# Leading words of "X" that stay in front when "X of Y" is reordered ("displaced femur fracture").
_LEADING_MODS = {
    "postprocedural", "intraoperative", "accidental", "traumatic", "nontraumatic", "displaced",
    "nondisplaced", "complete", "incomplete", "partial", "minor", "moderate", "major", "multiple",
    "superficial", "deep", "acute", "chronic", "recurrent", "spontaneous",
}

_EYE_WORDS = re.compile(
    r"\b(eyes?|eyelids?|lids?|cornea[l]?|conjunctiv\w*|iris|iridocyclitis|retina[l]?|vitreous|lens|glaucoma|"
    r"cataract|lacrimal|orbit(al)?|sclera[l]?|scleritis|keratitis|keratoconjunctivitis|uveitis|globe|"
    r"blepharo\w*|chalazion|stye|pterygium|enophthalmos|exophthalmos|lagophthalmos|amblyopia|"
    r"astigmatism|optic|macula[r]?|choroid\w*|episcleritis|dacryo\w*|epiphora|canthus|visual|vision)\b",
    re.IGNORECASE,
)
_EYE_SIDE = {"right": "OD", "left": "OS", "bilateral": "OU"}
_CONNECTOR_RE = re.compile(
    r" (with|without|due to|secondary to|after|following|affecting|at|associated with|complicating|"
    r"during|involving|from|by|w/|w/o) ",
    re.IGNORECASE,
)
_NOS_SLOT_RE = re.compile(
    r",| (?:with|without|due to|secondary to|after|following|affecting|at|associated with|complicating|"
    r"during|involving|from|in|of|not|w/o|w/) ",
    re.IGNORECASE,
)
_EPISODE_RE = re.compile(
    r",?\s*(initial encounter( for (closed )?fracture)?|sequela|"
    r"subsequent encounter( for fracture with routine healing)?)\s*$",
    re.IGNORECASE,
)
_SIDE_RE = re.compile(r"^(right|left|bilateral)(?: (.+))?$", re.IGNORECASE)
_UNSPEC_ATTR_RE = re.compile(
    r"^(?:unspecified (?:side|sites?|depth|stage|severity|type|trimester|level|degree|laterality|organism|"
    r"eyes?|ears?)|(?:site|stage|depth|side|severity|type) unspecified|unspecified)$",
    re.IGNORECASE,
)
_UNSPEC_SITE_RE = re.compile(r"^unspecified ([\w-]+(?: [\w-]+){0,2})$", re.IGNORECASE)
_CONNECTOR_WORDS = {"with", "without", "affecting", "in", "due", "of", "at", "and", "or", "as"}
_REGION_RE = re.compile(r"^([\w\- ]+?) region$", re.IGNORECASE)
_SEX_RE = re.compile(r"^(male|female)$", re.IGNORECASE)
_PUNCT_RE = re.compile(r"[^\w\s]")


def _stable_hash(text: str) -> int:
    """A small deterministic string hash (Python's hash() is salted per process)."""
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % 1_000_003
    return value


def _norm(text: str) -> str:
    return " ".join(_PUNCT_RE.sub(" ", text.lower()).split())


def _lower_first(title: str) -> str:
    """Lower-case the title's first letter unless the first word is an acronym or a proper name."""
    first = title.split(" ", 1)[0]
    stem = first.split("'", 1)[0].split("-", 1)[0]
    if re.search(r"[A-Z]", first[1:]) or "'" in first or stem in _EPONYMS:
        return title
    return title[:1].lower() + title[1:]


def _drop_unspecified(text: str) -> str:
    text = re.sub(r"\bunspecified part of\s+", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\bunspecified\s+", "", text, flags=re.IGNORECASE)
    text = re.sub(r",?\s*\bunspecified\b", "", text, flags=re.IGNORECASE)
    return text


def _reorder_of(core: str) -> str:
    """'X of [the] Y' -> 'Y X' when X ends in a site-taking noun and Y is a short plain site."""
    m = re.match(r"^(.+?) (?:of|to) (?:the )?(.+)$", core, flags=re.IGNORECASE)
    if m:
        head, site = m.group(1), m.group(2)
        words = head.split()
        if (
            words
            and words[-1].lower() in _REORDER_NOUNS
            and len(words) <= 4
            and not re.search(r"\b(and|or)\b", head, flags=re.IGNORECASE)
            and len(site.split()) <= 4
            and not re.search(r"\b(of|and|or|with|without|in|at)\b|,", site, flags=re.IGNORECASE)
        ):
            mods: list[str] = []
            while len(words) > 1 and words[0].lower() in _LEADING_MODS:
                mods.append(words.pop(0))
            if mods and mods[-1].lower() == "multiple" and site.lower().endswith("ribs"):
                site = site[:-1]
            return " ".join([*mods, site, *words])
    m = re.match(r"^(.+?) in (?:the )?(.+)$", core, flags=re.IGNORECASE)
    if m:
        head, site = m.group(1), m.group(2)
        words = head.split()
        if (
            words
            and words[-1].lower() in _IN_REORDER
            and len(words) <= 3
            and len(site.split()) <= 3
            and not re.search(r"\b(of|and|or|with)\b", site, flags=re.IGNORECASE)
        ):
            return f"{site} {head}"
    return core


def _apply_rules(text: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, rep in rules:
        text = pattern.sub(rep, text)
    return text


def _substance(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        severity = "mild" if m.group(2).lower() == "abuse" else "moderate"
        return f"{severity} {m.group(1)} use disorder"

    return _SUBSTANCE_RE.sub(repl, text)


def _british(text: str) -> str:
    return _apply_rules(text, _BRITISH_RULES)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+,", ",", text)
    text = re.sub(r",\s*,", ",", text)
    text = re.sub(r"\b(\w+) \1\b", r"\1", text)  # "leg leg" after substitutions
    return text.strip(" ,")


def _add_nos(text: str) -> str:
    """Put "NOS" after the main term ("dementia NOS, mild, with ...")."""
    m = _NOS_SLOT_RE.search(text)
    if not m:
        return f"{text} NOS"
    return f"{text[: m.start()]} NOS{text[m.start():]}"


def paraphrase_d(title: str) -> str:
    """Rewrite an ICD-10-CM title the way a clinician would write the diagnosis in a note.

    Deterministic and rule based: drops the episode-of-care wording ("initial encounter ..."), drops
    "unspecified", moves side/site/region qualifiers in front of (or, for eyes, OD/OS/OU behind) the
    diagnosis, reorders "X of Y" into "Y X" for site-taking nouns, maps formal terms to clinical ones
    (tables above), uses DSM-5 wording for substance abuse/dependence and British spelling for a
    deterministic share of titles.  Never returns an empty string.
    """
    original = " ".join((title or "").split())
    if not original:
        return "diagnosis not stated"
    bucket = _stable_hash(original)
    text = _lower_first(original)

    episode = ""
    m = _EPISODE_RE.search(text)
    if m:
        phrase = m.group(1).lower()
        if phrase.startswith("subsequent"):
            episode = "follow-up visit, healing as expected" if "routine healing" in phrase else "follow-up visit"
        elif phrase == "sequela":
            episode = "late effect"
        text = text[: m.start()]

    text = _apply_rules(text, _PRE_COMPILED)
    parts = [p.strip() for p in text.split(", ") if p.strip()]
    head, quals = parts[0], parts[1:]
    eye_context = bool(_EYE_WORDS.search(original))

    prefix: list[str] = []
    suffix_side = ""
    side_site = ""
    kept: list[str] = []
    classified_any = False
    for q in quals:
        ql = q.lower()
        sm = _SIDE_RE.match(q)
        um = _UNSPEC_SITE_RE.match(q)
        rm = _REGION_RE.match(q)
        if _UNSPEC_ATTR_RE.match(q):
            pass
        elif sm and (sm.group(2) is None or len(sm.group(2).split()) <= 4):
            side, part = sm.group(1).lower(), sm.group(2) or ""
            if eye_context and part.lower() in ("", "eye", "eyes"):
                suffix_side = _EYE_SIDE[side]
            elif side == "bilateral":
                prefix.append("bilateral")
            else:
                side_site = f"{side} {part}".strip()
        elif um and not _CONNECTOR_WORDS.intersection(um.group(1).lower().split()):
            site = um.group(1)
            if site.lower() in ("eyelid", "eyelids", "lid"):
                kept.append("lid NOS")
            elif " of " in head or side_site:
                kept.append(f"{site} NOS")
            else:
                side_site = site
        elif rm and len(rm.group(1).split()) <= 4 and not ql.startswith(("unspecified", "multiple")):
            prefix.append(rm.group(1))
        elif _SEX_RE.match(q):
            prefix.append(ql)
        elif not classified_any:
            # A continuation of the diagnosis itself ("iris, ciliary body or anterior chamber").
            head = f"{head}, {q}"
            continue
        else:
            kept.append(q)
            continue
        classified_any = True

    head = _drop_unspecified(head)
    if "," not in head:
        # Split off the trailing clause ("with ...", "due to ...") so that only the core gets reordered.
        cm = _CONNECTOR_RE.search(head)
        core, tail = (head[: cm.start()], head[cm.start():]) if cm else (head, "")
        head = (_reorder_of(core) + tail).strip() if core else head

    if side_site:
        if len(head.split()) <= 6 and " of " not in head:
            head = f"{side_site} {head}"
        elif " of " not in head:
            head = f"{head} of the {side_site}"
        else:
            short = re.sub(r"^right\b", "R", re.sub(r"^left\b", "L", side_site))
            kept.insert(0, short)
    if prefix:
        lead = " ".join(p for p in prefix if not head.lower().startswith(p.lower()))
        head = f"{lead} {head}".strip()
    if suffix_side:
        head = f"{head} {suffix_side}"

    text = ", ".join([head, *kept])
    text = _drop_unspecified(text)
    text = _apply_rules(text, _LAY_RULES)
    text = _substance(text)
    text = _apply_rules(text, _CLINICAL_RULES)
    if bucket % 3 == 1:
        text = re.sub(r"\bwithout\b", "w/o", text)
    if bucket % 5 == 0:
        text = _british(text)
    text = _tidy(text)

    plain = _norm(_drop_unspecified(_EPISODE_RE.sub("", original)))
    if _norm(text) == plain:
        british = _tidy(_british(text))
        if _norm(british) != plain:
            text = british
        elif re.search(r"\bunspecified\b", original, flags=re.IGNORECASE):
            text = _add_nos(text)
    if episode:
        text = f"{text}, {episode}"
    return text or original.lower()
