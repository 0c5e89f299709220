#!/usr/bin/env python3
# big_patient.py: NDJSON of one patient ("big-p") with 5,000 resources (300 Encounters,
# 3,500 Observations, 500 Conditions, 500 MedicationRequests, 199 Procedures) that
# reference the Practitioners and Organizations of tools/gen_sample.py's output
# (prac-00001..prac-00050, org-0001..org-0020: load a sample of >= 1,000 patients
# first). Deterministic. For bench/everything_bench.sh.
import json
import random

r = random.Random(7)
PID = "big-p"


def prac():
    return {"reference": "Practitioner/prac-%05d" % r.randint(1, 50)}


def org():
    return {"reference": "Organization/org-%04d" % r.randint(1, 20)}


def day(i):
    return "20%02d-%02d-%02d" % (10 + i % 14, 1 + i % 12, 1 + i % 28)


def main():
    subject = {"reference": "Patient/" + PID}
    out = [{"resourceType": "Patient", "id": PID, "generalPractitioner": [{"reference": "Practitioner/prac-00001"}],
            "managingOrganization": {"reference": "Organization/org-0001"}}]
    for i in range(300):
        out.append({"resourceType": "Encounter", "id": "big-e%04d" % i, "status": "finished", "class": {"code": "AMB"},
                    "subject": subject, "period": {"start": day(i)}, "participant": [{"individual": prac()}],
                    "serviceProvider": org()})
    for i in range(3500):
        out.append({"resourceType": "Observation", "id": "big-o%05d" % i, "status": "final",
                    "code": {"text": "x%d" % (i % 20)}, "subject": subject, "effectiveDateTime": day(i),
                    "encounter": {"reference": "Encounter/big-e%04d" % (i % 300)}, "performer": [prac()],
                    "valueQuantity": {"value": i % 97}})
    for i in range(500):
        out.append({"resourceType": "Condition", "id": "big-c%04d" % i, "subject": subject, "onsetDateTime": day(i),
                    "asserter": prac()})
    for i in range(500):
        out.append({"resourceType": "MedicationRequest", "id": "big-m%04d" % i, "status": "active", "intent": "order",
                    "subject": subject, "authoredOn": day(i), "requester": prac(),
                    "medicationCodeableConcept": {"text": "m"}})
    for i in range(199):
        out.append({"resourceType": "Procedure", "id": "big-r%04d" % i, "status": "completed", "subject": subject,
                    "performedDateTime": day(i), "performer": [{"actor": prac()}]})
    for o in out:
        print(json.dumps(o))


if __name__ == "__main__":
    main()
