package diagnose

import (
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// A Job's pods do not loop in place: with restartPolicy Never each failed
// attempt is a new pod, and the Job controller decides whether another
// comes. What the user needs beside the pod's own exit is where the Job
// stands: attempts left before backoffLimit, or that it has failed, or
// that a later attempt succeeded. The wording of the conditions is the
// Job controller's (pkg/controller/job/job_controller.go, Kubernetes
// 1.36): BackoffLimitExceeded "Job has reached the specified backoff
// limit", DeadlineExceeded "Job was active longer than specified deadline",
// PodFailurePolicy, MaxFailedIndexesExceeded, FailedIndexes.

// Job controller constants (job_controller.go DefaultJobPodFailureBackOff,
// MaxJobPodFailureBackOff): the delay before the next pod after a failure
// starts at 10 s and doubles per failure, at most 10 minutes.
const (
	jobBackoffStart = "10 s"
	jobBackoffMax   = "10 minutes"
)

// jobFinding says where the pod's Job stands; ok false when the pod has no
// Job the caller could read.
func jobFinding(pod *corev1.Pod, job *batchv1.Job) (Finding, bool) {
	if job == nil {
		return Finding{}, false
	}
	name := "Job/" + job.Name
	limit := int32(6) // the API's default backoffLimit
	if job.Spec.BackoffLimit != nil {
		limit = *job.Spec.BackoffLimit
	}
	failed := job.Status.Failed
	ev := []Evidence{
		{Kind: "status", Source: name + " status", Quote: fmt.Sprintf("failed=%d succeeded=%d active=%d", failed, job.Status.Succeeded, job.Status.Active)},
		{Kind: "spec", Source: name + " spec.backoffLimit", Quote: fmt.Sprint(limit)},
	}
	f := Finding{ID: FindingJobFailing, Category: CategoryApplication, Severity: SeverityWarning, Evidence: ev}
	if c := jobCondition(job, batchv1.JobFailed); c != nil {
		f.Severity = SeverityError
		f.Evidence = append(f.Evidence, Evidence{Kind: "status", Source: name + " condition Failed", Quote: c.Reason + ": " + firstLine(c.Message)})
		f.Verdict = fmt.Sprintf("%s has failed (%s: %s) after %d failed pods: it creates no more pods.", name, c.Reason, firstLine(c.Message), failed)
		f.Fix.Text = "Fix the failure this pod's log shows, then run the work again: a failed Job is not retried (create it anew, or wait for its CronJob's next run)."
		return f, true
	}
	if c := jobCondition(job, batchv1.JobComplete); c != nil {
		f.Severity = SeverityInfo
		f.Verdict = fmt.Sprintf("%s has since completed (%d succeeded): a later attempt succeeded after this pod failed; the Job keeps its failed pods until it is deleted.", name, job.Status.Succeeded)
		f.Fix.Text = "Nothing to do for the Job; if attempts fail often, the log of this one says why."
		return f, true
	}
	var b strings.Builder
	if job.Spec.BackoffLimitPerIndex != nil {
		fmt.Fprintf(&b, "%s retries each index up to %d times (backoffLimitPerIndex); %d pods failed so far.", name, *job.Spec.BackoffLimitPerIndex, failed)
	} else {
		left := max(limit+1-failed, 0)
		fmt.Fprintf(&b, "%s has had %d failed attempts of the %d its backoffLimit %d allows: %d left before the Job fails.", name, failed, limit+1, limit, left)
		if restartPolicy(pod) == corev1.RestartPolicyOnFailure {
			b.WriteString(" Under restartPolicy OnFailure the containers' restarts in running pods count too.")
		}
	}
	fmt.Fprintf(&b, " The next pod comes after a back-off of %s, doubling per failure up to %s.", jobBackoffStart, jobBackoffMax)
	if job.Spec.PodFailurePolicy != nil {
		b.WriteString(" Its podFailurePolicy may end it sooner (FailJob) or not count an exit (Ignore).")
	}
	f.Verdict = b.String()
	f.Fix.Text = "Fix the failure this pod's log shows; the Job retries until backoffLimit, so every attempt that fails the same way brings it closer to failing."
	return f, true
}

// jobCondition is the Job's condition of type t when it is true.
func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}
