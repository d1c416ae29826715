package kommo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"callbridge"
)

// Task types every account has.
const (
	TaskFollowUp = 1 // "Follow-up" (formerly "Call")
	TaskMeeting  = 2
)

// TaskInput is a new task.
type TaskInput struct {
	Text         string    // required
	CompleteTill time.Time // required: the deadline
	// EntityID and EntityType attach the task to a lead, contact, company or
	// customer; zero values leave it unattached.
	EntityID          int64
	EntityType        string
	TaskTypeID        int64 // 0 = Follow-up
	ResponsibleUserID int64 // 0 = the token's user
}

// Task is a Kommo task.
type Task struct {
	ID                int64
	Text              string
	EntityID          int64
	EntityType        string
	TaskTypeID        int64
	ResponsibleUserID int64
	CompleteTill      time.Time
	IsCompleted       bool
	Result            string
}

// TaskFilter selects tasks; empty fields do not filter.
type TaskFilter struct {
	EntityType         string
	EntityIDs          []int64
	TaskTypeIDs        []int64
	ResponsibleUserIDs []int64
	IsCompleted        *bool
	Page               int
	Limit              int // at most 250
}

// AddTask creates a task with POST /api/v4/tasks and returns its id. A write
// without a readable answer is KindUncertain.
func (c *Client) AddTask(ctx context.Context, acct *callbridge.Account, in TaskInput) (int64, error) {
	if strings.TrimSpace(in.Text) == "" || in.CompleteTill.IsZero() {
		return 0, callbridge.Errorf(callbridge.EINVALID, "kommo: a task needs a text and a deadline")
	}
	item := map[string]any{"text": in.Text, "complete_till": in.CompleteTill.Unix(), "request_id": "1"}
	if in.EntityID != 0 {
		if err := checkEntityType(in.EntityType); err != nil {
			return 0, err
		}
		item["entity_id"], item["entity_type"] = in.EntityID, in.EntityType
	}
	if in.TaskTypeID != 0 {
		item["task_type_id"] = in.TaskTypeID
	}
	if in.ResponsibleUserID != 0 {
		item["responsible_user_id"] = in.ResponsibleUserID
	}
	req := &request{method: http.MethodPost, route: "POST /api/v4/tasks", path: "/api/v4/tasks", body: []any{item}}
	var body struct {
		Embedded struct {
			Tasks []struct {
				ID flexInt `json:"id"`
			} `json:"tasks"`
		} `json:"_embedded"`
	}
	if err := c.write(ctx, acct, req, &body); err != nil {
		return 0, err
	}
	if len(body.Embedded.Tasks) == 0 || body.Embedded.Tasks[0].ID == 0 {
		return 0, callbridge.Uncertain(nil, "kommo: the task answer has no id")
	}
	return int64(body.Embedded.Tasks[0].ID), nil
}

// ListTasks returns one page of tasks matching f with GET /api/v4/tasks.
func (c *Client) ListTasks(ctx context.Context, acct *callbridge.Account, f TaskFilter) ([]Task, error) {
	q := url.Values{}
	if f.EntityType != "" {
		if err := checkEntityType(f.EntityType); err != nil {
			return nil, err
		}
		q.Set("filter[entity_type]", f.EntityType)
	}
	addIDs(q, "filter[entity_id][]", f.EntityIDs)
	addIDs(q, "filter[task_type][]", f.TaskTypeIDs)
	addIDs(q, "filter[responsible_user_id][]", f.ResponsibleUserIDs)
	if f.IsCompleted != nil {
		q.Set("filter[is_completed]", map[bool]string{true: "1", false: "0"}[*f.IsCompleted])
	}
	page(q, f.Page, f.Limit)
	req := &request{method: http.MethodGet, route: "GET /api/v4/tasks", path: "/api/v4/tasks" + query(q)}
	var body struct {
		Embedded struct {
			Tasks []struct {
				ID                flexInt    `json:"id"`
				Text              string     `json:"text"`
				EntityID          flexInt    `json:"entity_id"`
				EntityType        string     `json:"entity_type"`
				TaskTypeID        flexInt    `json:"task_type_id"`
				ResponsibleUserID flexInt    `json:"responsible_user_id"`
				CompleteTill      flexInt    `json:"complete_till"`
				IsCompleted       bool       `json:"is_completed"`
				Result            taskResult `json:"result"`
			} `json:"tasks"`
		} `json:"_embedded"`
	}
	if err := c.get(ctx, acct, req, &body); err != nil {
		return nil, err
	}
	out := make([]Task, 0, len(body.Embedded.Tasks))
	for _, t := range body.Embedded.Tasks {
		out = append(out, Task{ID: int64(t.ID), Text: t.Text, EntityID: int64(t.EntityID), EntityType: t.EntityType,
			TaskTypeID: int64(t.TaskTypeID), ResponsibleUserID: int64(t.ResponsibleUserID),
			CompleteTill: unixTime(t.CompleteTill), IsCompleted: t.IsCompleted, Result: t.Result.Text})
	}
	return out, nil
}

// CompleteTask marks a task completed with result text, with PATCH
// /api/v4/tasks/{id}. It is idempotent.
func (c *Client) CompleteTask(ctx context.Context, acct *callbridge.Account, id int64, result string) error {
	if id <= 0 {
		return callbridge.Errorf(callbridge.EINVALID, "kommo: task id required")
	}
	body := map[string]any{"is_completed": true}
	if result != "" {
		body["result"] = map[string]string{"text": result}
	}
	req := &request{method: http.MethodPatch, route: "PATCH /api/v4/tasks/{id}", path: fmt.Sprintf("/api/v4/tasks/%d", id), body: body}
	return c.write(ctx, acct, req, nil)
}

// taskResult decodes a task's result: {"text": …}, or the empty array Kommo
// sends for a task without a result.
type taskResult struct {
	Text string
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *taskResult) UnmarshalJSON(b []byte) error {
	var o struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(b, &o) == nil {
		r.Text = o.Text
	}
	return nil // [] or null: no result
}
